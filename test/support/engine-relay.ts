import net from 'node:net';

/**
 * A relay on 127.0.0.1 in front of the real engine's unix socket: the engine
 * here listens on that socket only, and tests reach it over TCP (or TLS,
 * with a tls.Server) through this, as devkit would reach an engine on another host.
 */

export const ENGINE_SOCKET = '/var/run/docker.sock';

export interface Relay {
  port: number;
  connections: number;
  close(): Promise<void>;
}

/** Listens on a free port of 127.0.0.1, counting the connections made to it. */
export async function relayTo(server: net.Server): Promise<Relay> {
  const open = new Set<net.Socket>();
  let connections = 0;
  server.on('connection', (socket: net.Socket) => {
    connections += 1;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Pipes a client to the real engine's socket, both ways, half-closes included. */
export function toEngine(client: net.Socket): void {
  const engine = net.connect(ENGINE_SOCKET);
  client.pipe(engine);
  engine.pipe(client);
  client.on('error', () => engine.destroy());
  engine.on('error', () => client.destroy());
}
