// Serves a unix socket on a TCP port of the loopback of the network namespace this runs in, and
// prints the port once listening: `node loopback-forward.mjs PORT SOCKET` (PORT 0: any free one).
// A unix socket is a file, seen from every namespace, so one service reaches two loopbacks
// (test/support/registry.ts: this machine's, and a second engine's).
import net from 'node:net';

const [port, socket] = process.argv.slice(2);
const server = net.createServer((client) => {
  const upstream = net.connect(socket);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
  client.pipe(upstream).pipe(client);
});
server.listen(Number(port), '127.0.0.1', () => console.log(server.address().port));
