// jshint esversion: 6
/*
 * legacy-server.js: the server side of the original Node.js
 * elastic-socks-proxy, on @dongmuni/nodejs-text-net, for the
 * interoperability test (tests/t-pool-interop-node.sh).
 *
 *   node legacy-server.js WORKER_PORT SOCKS_PORT
 *
 * A text-net worker pool on 127.0.0.1:WORKER_PORT (the library's
 * createWorkerPool(), joined on RGST and left on close, as its
 * startWorkerPoolServer() does, but bound to loopback only) and a
 * minimal SOCKS5 front on 127.0.0.1:SOCKS_PORT (no authentication,
 * CONNECT only).  Each request becomes createSession('SOCKS', [host,
 * port, 'connect']) on the next worker, round-robin; like the original
 * it answers the client at once (a legacy worker never confirms the
 * dial) and pipes the client and the session together.  With no worker
 * registered it answers 0x01.  Prints "ready" once both ports listen.
 */

'use strict';

const net = require('net');
const textNet = require('@dongmuni/nodejs-text-net');

if (process.argv.length < 4) {
	console.error('usage: node legacy-server.js WORKER_PORT SOCKS_PORT');
	process.exit(2);
}

const workerPort = parseInt(process.argv[2], 10);
const socksPort = parseInt(process.argv[3], 10);
const textNetOptions = {logConnection: true, logSession: false};
var listening = 0;

function ready() {
	if (++listening === 2) {
		console.log('ready');
	}
}

// The worker pool, wired as startWorkerPoolServer() wires it.
const workerPool = textNet.createWorkerPool(textNetOptions);
const workerServer = textNet.createServer(textNetOptions);

workerServer.on('client', (client) => {
	client.on('RGST', (msg) => {
		workerPool.addClient(client);
	});
	client.on('error', (e) => {
		workerPool.deleteClient(client);
	});
	client.on('close', () => {
		workerPool.deleteClient(client);
	});
});
workerServer.listen({host: '127.0.0.1', port: workerPort}, ready);

// SOCKS5 reply with the given code and a 0.0.0.0:0 bound address.
function reply(socket, code) {
	socket.write(Buffer.from([5, code, 0, 1, 0, 0, 0, 0, 0, 0]));
}

// Parse a SOCKS5 request from buf; null if incomplete, false if bad.
function parseRequest(buf) {
	if (buf.length < 5) {
		return null;
	}
	if (buf[0] !== 5 || buf[2] !== 0) {
		return false;
	}
	var cmd = buf[1];
	var host, off;
	switch (buf[3]) {
	case 1:
		off = 8;
		if (buf.length < off + 2) {
			return null;
		}
		host = Array.from(buf.slice(4, 8)).join('.');
		break;
	case 3:
		off = 5 + buf[4];
		if (buf.length < off + 2) {
			return null;
		}
		host = buf.slice(5, off).toString();
		break;
	case 4:
		off = 20;
		if (buf.length < off + 2) {
			return null;
		}
		var parts = [];
		for (var i = 4; i < 20; i += 2) {
			parts.push(buf.readUInt16BE(i).toString(16));
		}
		host = parts.join(':');
		break;
	default:
		return false;
	}
	return {cmd: cmd, host: host, port: buf.readUInt16BE(off), rest: buf.slice(off + 2)};
}

// Hand the request to a worker session and pipe the two together.
function relay(socket, req) {
	if (workerPool.getPoolSize() === 0) {
		console.log(`no worker for ${req.host}:${req.port}`);
		reply(socket, 1);
		socket.end();
		return;
	}
	const session = workerPool.createSession('SOCKS', [req.host, '' + req.port, 'connect']);
	console.log(`session ${session.session_id}: ${req.host}:${req.port}`);
	session.on('error', (e) => {
		console.log(`session ${session.session_id}: ${e.message}`);
		socket.destroy();
	});
	socket.on('error', (e) => {
		session.destroy();
	});
	reply(socket, 0);
	if (req.rest.length > 0) {
		session.write(req.rest);
	}
	socket.pipe(session);
	session.pipe(socket);
}

const socksServer = net.createServer({allowHalfOpen: true}, (socket) => {
	var buf = Buffer.alloc(0);
	var stage = 0;

	socket.setNoDelay(true);
	socket.on('error', () => {});
	function onData(data) {
		buf = Buffer.concat([buf, data]);
		if (stage === 0) {
			if (buf.length < 2 || buf.length < 2 + buf[1]) {
				return;
			}
			if (buf[0] !== 5) {
				socket.destroy();
				return;
			}
			var methods = buf.slice(2, 2 + buf[1]);
			buf = buf.slice(2 + buf[1]);
			if (!methods.includes(0)) {
				socket.end(Buffer.from([5, 0xff]));
				return;
			}
			socket.write(Buffer.from([5, 0]));
			stage = 1;
		}
		var req = parseRequest(buf);
		if (req === null) {
			return;
		}
		socket.removeListener('data', onData);
		socket.pause();
		if (req === false || req.cmd !== 1) {
			reply(socket, req === false ? 1 : 7);
			socket.end();
			return;
		}
		relay(socket, req);
	}
	socket.on('data', onData);
});
socksServer.listen({host: '127.0.0.1', port: socksPort}, ready);
