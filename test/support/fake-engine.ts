import type { EngineEndpoint } from '../../src/docker/endpoint.js';
import { rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach } from 'vitest';
import { tempDir } from './sandbox.js';

/**
 * Unix sockets standing in for the Docker engine: the function returned
 * listens on a new one, hands each connection to `onConnection`, and returns
 * the socket's path. After each test the servers are closed, the
 * connections they took destroyed (a failed test may leave one streaming)
 * and their folders removed.
 */
export function fakeEngines(): (onConnection: (socket: net.Socket) => void) => Promise<string> {
  const servers: net.Server[] = [];
  const connections: net.Socket[] = [];
  const dirs: string[] = [];
  afterEach(() => {
    connections.splice(0).forEach((socket) => socket.destroy());
    servers.splice(0).forEach((server) => server.close());
    dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true }));
  });
  return async (onConnection) => {
    const dir = tempDir('engine-http');
    dirs.push(dir);
    const server = net.createServer((socket) => {
      socket.on('error', () => undefined); // devkit hung up (it gave up, or read enough)
      connections.push(socket);
      onConnection(socket);
    });
    servers.push(server);
    const socketPath = path.join(dir, 'engine.sock');
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    return socketPath;
  };
}

/**
 * An engine answering each request by its request line (`GET /v1.41/_ping
 * HTTP/1.1`): `answer` gives the whole HTTP answer, or null to never answer.
 */
export function answering(answer: (requestLine: string) => string | null): (socket: net.Socket) => void {
  return (socket) =>
    socket.once('data', (request: Buffer) => {
      const text = answer(request.toString('latin1').split('\r\n')[0] ?? '');
      if (text !== null) socket.end(text);
    });
}

/** An answer with a JSON body, as the engine sends one. */
export function jsonAnswer(status: number, body: unknown): string {
  const text = JSON.stringify(body);
  return `HTTP/1.1 ${status} X\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`;
}

/** A unix socket (a fake engine's, or the real one's) as the endpoint devkit's engine client takes. */
export function unixEndpoint(socketPath: string): EngineEndpoint {
  return { kind: 'unix', path: socketPath, context: 'default' };
}
