// jshint esversion: 6
/*
 * legacy-worker.js: an elastic-socks-proxy worker written the way the
 * original Node.js project wrote it, on @dongmuni/nodejs-text-net, for
 * the interoperability test (tests/t-pool-interop-node.sh).
 *
 *   node legacy-worker.js HOST PORT [PING_MS]
 *
 * It dials the server's worker port with the library's autoReconnect(),
 * registers with autoRegister (RGST with the host name) plus the second,
 * empty RGST the original sent, pings every PING_MS (default 1000) while
 * idle, and for each "SOCKS" session dials the destination in the
 * session's arguments (host, port, command) and pipes the two together.
 * It knows nothing of HELO, A, W or DRAIN: a legacy text-net peer.
 */

'use strict';

const net = require('net');
const os = require('os');
const textNet = require('@dongmuni/nodejs-text-net');

if (process.argv.length < 4) {
	console.error('usage: node legacy-worker.js HOST PORT [PING_MS]');
	process.exit(2);
}

const options = {
	host: process.argv[2],
	port: parseInt(process.argv[3], 10),
	autoRegister: true,
	idlePingTimeout: parseInt(process.argv[4] || '1000', 10),
	reconnectInterval: 500,
	logConnection: true,
	logSession: false
};

console.log(`legacy worker ${os.hostname()} for ${options.host}:${options.port}`);

textNet.autoReconnect(options, (client) => {
	// The original sent a second, empty RGST after autoRegister's.
	client.sendMessage('RGST', 0, [], null);

	client.on('error', (e) => {
		console.log(`link error: ${e.message}`);
	});

	client.onSession('SOCKS', (session) => {
		const args = session.session_args || [];
		const host = args[0];
		const port = parseInt(args[1], 10);
		const command = (args[2] || '').toLowerCase();
		var dest = null;

		session.on('error', (e) => {
			console.log(`session ${session.session_id}: ${e.message}`);
			if (dest) {
				dest.destroy();
			}
		});

		if (!host || !(port > 0 && port < 65536) || command !== 'connect') {
			console.log(`session ${session.session_id}: bad request ${args}`);
			session.destroy();
			return;
		}

		console.log(`session ${session.session_id}: ${host}:${port}`);
		dest = net.createConnection({host: host, port: port, allowHalfOpen: true}, () => {
			session.pipe(dest);
			dest.pipe(session);
		});
		dest.setNoDelay(true);
		dest.on('error', (e) => {
			console.log(`session ${session.session_id}: ${host}:${port}: ${e.message}`);
			session.destroy();
		});
	});
});
