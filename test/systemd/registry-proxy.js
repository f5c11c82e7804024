// A TCP proxy in front of the tier's registry, run as a process of its own (the test process
// is blocked in systemd-nspawn while a node boots): `node registry-proxy.js TARGET_PORT FLAG`
// listens on a free port of 127.0.0.1, prints it on one line, and forwards every connection to
// 127.0.0.1:TARGET_PORT, except while the file FLAG exists: then it accepts connections and
// never answers, as a registry that hangs does. Ends when its stdin closes.
'use strict';
const fs = require('fs');
const net = require('net');

const [targetPort, flag] = process.argv.slice(2);
const held = new Set();
const server = net.createServer((client) => {
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
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
