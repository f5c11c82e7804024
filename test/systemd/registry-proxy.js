// A TCP proxy in front of the tier's registry, run as a process of its own (the test process
// is blocked in systemd-nspawn while a node boots): `node registry-proxy.js LISTEN_PORT
// TARGET_PORT FLAG` listens on 127.0.0.1:LISTEN_PORT and forwards every connection to
// 127.0.0.1:TARGET_PORT, except while the file FLAG exists: then it accepts connections and
// never answers, as a registry that hangs does. The test stops it by its pid.
'use strict';
const fs = require('fs');
const net = require('net');

const [listenPort, targetPort, flag] = process.argv.slice(2);
const held = new Set();
net.createServer((client) => {
  if (fs.existsSync(flag)) {
    held.add(client);
    client.on('error', () => held.delete(client));
    client.on('close', () => held.delete(client));
    return;
  }
  const upstream = net.connect(Number(targetPort), '127.0.0.1');
  client.pipe(upstream);
  upstream.pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
}).listen(Number(listenPort), '127.0.0.1');
