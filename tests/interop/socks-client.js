// A client of the npm package `socks` (its BIND and UDP ASSOCIATE), for
// tests/t-pool-npm-socks.sh.  One request per run:
//
//   node socks-client.js bind PROXYPORT
//     BIND for 0.0.0.0:0; prints "bound=HOST:PORT" when the proxy
//     listens, "peer=HOST:PORT" when the peer connected, sends
//     "from npm", half-closes, and prints "got=..." of what the peer sent.
//   node socks-client.js udp PROXYPORT HOST ECHOPORT
//     UDP ASSOCIATE, one datagram "from npm" to HOST:ECHOPORT; prints
//     "from=HOST:PORT data=..." of the answer.
//
// Exits 0 when the exchange completed, 1 otherwise, within 15 s.
'use strict';

const dgram = require('dgram');
const { SocksClient } = require('socks');

const [mode, proxyPort, host, echoPort] = process.argv.slice(2);
const proxy = { host: '127.0.0.1', port: Number(proxyPort), type: 5 };

setTimeout(() => {
	console.log('timeout');
	process.exit(1);
}, 15000).unref();

function fail(err) {
	console.log(`error=${err && err.message ? err.message : err}`);
	process.exit(1);
}

if (mode === 'bind') {
	const client = new SocksClient({
		proxy,
		command: 'bind',
		destination: { host: '0.0.0.0', port: 0 }
	});
	client.on('bound', (info) => {
		console.log(`bound=${info.remoteHost.host}:${info.remoteHost.port}`);
	});
	client.on('established', (info) => {
		const r = info.remoteHost;
		let got = '';
		console.log(`peer=${r.host}:${r.port}`);
		info.socket.on('data', (d) => { got += d.toString(); });
		info.socket.on('end', () => {
			console.log(`got=${got}`);
			process.exit(0);
		});
		info.socket.end('from npm');
	});
	client.on('error', fail);
	client.connect();
} else if (mode === 'udp') {
	const udp = dgram.createSocket('udp4');
	udp.bind(0, '127.0.0.1', () => {
		const client = new SocksClient({
			proxy,
			command: 'associate',
			destination: { host: '127.0.0.1',
			    port: udp.address().port }
		});
		client.on('established', (info) => {
			const relay = info.remoteHost;
			udp.on('message', (msg) => {
				const f = SocksClient.parseUDPFrame(msg);
				console.log(`from=${f.remoteHost.host}:` +
				    `${f.remoteHost.port} data=${f.data}`);
				info.socket.end();
				udp.close();
				process.exit(0);
			});
			const frame = SocksClient.createUDPFrame({
				remoteHost: { host, port: Number(echoPort) },
				data: Buffer.from('from npm')
			});
			udp.send(frame, relay.port, relay.host);
		});
		client.on('error', fail);
		client.connect();
	});
} else {
	fail(`usage: socks-client.js bind|udp PROXYPORT [HOST ECHOPORT]`);
}
