import { createRequire } from 'node:module';
import net from 'node:net';
import { Duplex } from 'node:stream';
import { debugError } from '../debug.js';
import type { EngineEndpoint } from './endpoint.js';

// node:tls and node:child_process are loaded only for an engine that needs them: each costs exec-cd
// milliseconds of start-up on the local socket.
const builtin = createRequire(import.meta.url);
const loadTls = (): typeof import('node:tls') => builtin('node:tls') as typeof import('node:tls');
const loadChildProcess = (): typeof import('node:child_process') => builtin('node:child_process') as typeof import('node:child_process');

/**
 * A connection to the engine, whatever the endpoint: the unix socket, TCP
 * (with the context's TLS material), or ssh running `docker system
 * dial-stdio` on the far side, as the docker CLI does (its stdin and stdout
 * are the connection). engine-http.ts speaks HTTP over any of them.
 */
export function dialEngine(endpoint: EngineEndpoint): Duplex {
  switch (endpoint.kind) {
    case 'unix':
      return net.connect(endpoint.path);
    case 'tcp':
      if (endpoint.tls === null) return net.connect({ host: endpoint.host, port: endpoint.port });
      return loadTls().connect({
        host: endpoint.host,
        port: endpoint.port,
        servername: net.isIP(endpoint.host) === 0 ? endpoint.host : undefined,
        ca: endpoint.tls.ca ?? undefined,
        cert: endpoint.tls.cert ?? undefined,
        key: endpoint.tls.key ?? undefined,
        rejectUnauthorized: endpoint.tls.verify,
      });
    case 'ssh':
      return dialOverSsh(endpoint);
  }
}

/** The arguments the docker CLI gives ssh for an ssh:// engine (its connhelper), and the command run there. */
function sshArgv(endpoint: Extract<EngineEndpoint, { kind: 'ssh' }>): string[] {
  return [
    '-o',
    'ConnectTimeout=30',
    '-T',
    ...(endpoint.user === null ? [] : ['-l', endpoint.user]),
    ...(endpoint.port === null ? [] : ['-p', String(endpoint.port)]),
    '--',
    endpoint.host,
    'docker',
    'system',
    'dial-stdio',
  ];
}

const STDERR_KEPT = 4096;

function dialOverSsh(endpoint: Extract<EngineEndpoint, { kind: 'ssh' }>): Duplex {
  const child = loadChildProcess().spawn('ssh', sshArgv(endpoint), { stdio: ['pipe', 'pipe', 'pipe'] });
  const connection = Duplex.from({ readable: child.stdout, writable: child.stdin });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < STDERR_KEPT) stderr += chunk.toString('utf8');
  });
  child.on('error', (error) => connection.destroy(error));
  child.on('exit', (code) => {
    // ssh failing (a refused key, no docker there) ends the connection with what ssh said.
    if (code !== 0 && code !== null) connection.destroy(new Error(`ssh ${endpoint.host}: ${stderr.trim() || `exit ${code}`}`));
  });
  connection.on('close', () => {
    if (child.exitCode === null) child.kill();
  });
  // Closing the connection once the answer is read makes Duplex.from's wrapper emit an AbortError after
  // engine-http has stopped listening: without a listener of its own, that error would end devkit.
  connection.on('error', (error) => debugError(`the ssh connection to ${endpoint.host}`, error));
  return connection;
}
