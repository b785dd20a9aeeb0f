// A registry that lies, for the test that devkit checks what a remote engine pulled: serves the registry on
// the unix socket SOCKET on 127.0.0.1:PORT (0: any free one; prints the port once listening), except that a
// manifest asked for by a tag devkit uses (sha256-<64 hex>) is the manifest of tag TAG of the same
// repository instead. `node swapping-registry.mjs PORT SOCKET TAG`
import http from 'node:http';

const [port, socket, tag] = process.argv.slice(2);
const DEVKIT_TAG = /^(\/v2\/.+\/manifests\/)sha256-[0-9a-f]{64}$/;

const server = http.createServer((request, response) => {
  const path = (request.url ?? '/').replace(DEVKIT_TAG, `$1${tag}`);
  const upstream = http.request({ socketPath: socket, method: request.method, path, headers: request.headers }, (answer) => {
    response.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(response);
  });
  upstream.on('error', () => response.destroy());
  request.pipe(upstream);
});
server.listen(Number(port), '127.0.0.1', () => console.log(server.address().port));
