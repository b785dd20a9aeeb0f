import { createHash } from 'node:crypto';
import path from 'node:path';
import { DevkitError } from '../errors.js';
import { dockerConfigDir, readDockerConfig, readOptional } from './docker-config.js';

/**
 * Which Docker engine devkit talks to, chosen as the docker CLI chooses it,
 * so that `docker ps` and devkit always mean the same engine:
 *   1. DOCKER_HOST (the CLI's "default" context, TLS from DOCKER_TLS_VERIFY
 *      and DOCKER_CERT_PATH);
 *   2. DOCKER_CONTEXT;
 *   3. `currentContext` in the docker config ($DOCKER_CONFIG/config.json,
 *      else ~/.docker/config.json);
 *   4. the local socket, /var/run/docker.sock.
 * A context lives in the docker config's context store: its endpoint in
 * contexts/meta/<sha256 of its name>/meta.json and its TLS material in
 * contexts/tls/<same>/docker/.
 */
export type EngineEndpoint =
  | { kind: 'unix'; path: string; context: string }
  | { kind: 'tcp'; host: string; port: number; tls: TlsMaterial | null; context: string }
  | { kind: 'ssh'; user: string | null; host: string; port: number | null; context: string };

/** What a TLS connection to the engine presents and checks: PEM text. */
export interface TlsMaterial {
  ca: string | null;
  cert: string | null;
  key: string | null;
  /** false: the engine's certificate is not checked (a context made with skip-tls-verify). */
  verify: boolean;
}

export const DEFAULT_SOCKET = '/var/run/docker.sock';
/** The context the docker CLI calls the engine from the environment. */
export const DEFAULT_CONTEXT = 'default';

/** The context the docker CLI would use (see above). */
function contextName(env: NodeJS.ProcessEnv): string {
  if (env.DOCKER_HOST) return DEFAULT_CONTEXT;
  if (env.DOCKER_CONTEXT) return env.DOCKER_CONTEXT;
  const current = readDockerConfig(env)?.currentContext;
  return typeof current === 'string' && current !== '' ? current : DEFAULT_CONTEXT;
}

/** A Host string (unix:///p, tcp://h:p, ssh://[user@]h[:p]) as an endpoint. */
function parseHost(host: string, context: string, tls: TlsMaterial | null): EngineEndpoint {
  const where = context === DEFAULT_CONTEXT ? `DOCKER_HOST=${host}` : `docker context ${context} (host ${host})`;
  if (host.startsWith('unix://')) {
    const socket = host.slice('unix://'.length);
    if (!socket.startsWith('/')) throw new DevkitError(`${where}: a unix socket needs an absolute path`);
    return { kind: 'unix', path: socket, context };
  }
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw new DevkitError(`${where} is not an engine address devkit knows (unix://PATH, tcp://HOST:PORT or ssh://[USER@]HOST[:PORT])`);
  }
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (url.protocol === 'tcp:' && hostname !== '') {
    return { kind: 'tcp', host: hostname, port: url.port === '' ? (tls === null ? 2375 : 2376) : Number(url.port), tls, context };
  }
  if (url.protocol === 'ssh:' && hostname !== '') {
    return {
      kind: 'ssh',
      user: url.username === '' ? null : decodeURIComponent(url.username),
      host: hostname,
      port: url.port === '' ? null : Number(url.port),
      context,
    };
  }
  throw new DevkitError(`${where} is not an engine address devkit knows (unix://PATH, tcp://HOST:PORT or ssh://[USER@]HOST[:PORT])`);
}

/** ca.pem, cert.pem and key.pem of `dir`, those that exist (no CA: the system's). */
function tlsFiles(dir: string, verify: boolean): TlsMaterial {
  const read = (name: string): string | null => readOptional(path.join(dir, name));
  return { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem'), verify };
}

/** The engine of the environment: DOCKER_HOST, with TLS as DOCKER_TLS_VERIFY and DOCKER_CERT_PATH say; else the local socket. */
function defaultEndpoint(env: NodeJS.ProcessEnv): EngineEndpoint {
  const host = env.DOCKER_HOST;
  if (!host) return { kind: 'unix', path: DEFAULT_SOCKET, context: DEFAULT_CONTEXT };
  const tls = env.DOCKER_TLS_VERIFY ? tlsFiles(env.DOCKER_CERT_PATH || dockerConfigDir(env), true) : null;
  return parseHost(host, DEFAULT_CONTEXT, tls);
}

interface ContextMeta {
  Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } };
}

/** A named context from the docker config's context store. */
function storedEndpoint(env: NodeJS.ProcessEnv, name: string): EngineEndpoint {
  const id = createHash('sha256').update(name).digest('hex');
  const store = path.join(dockerConfigDir(env), 'contexts');
  const text = readOptional(path.join(store, 'meta', id, 'meta.json'));
  if (text === null)
    throw new DevkitError(`docker context ${name} does not exist: make it with docker context create ${name} --docker host=...`);
  let meta: ContextMeta;
  try {
    meta = JSON.parse(text) as ContextMeta;
  } catch {
    throw new DevkitError(`docker context ${name}'s meta.json is not JSON: make it again with docker context create`);
  }
  const host = meta.Endpoints?.docker?.Host;
  if (typeof host !== 'string' || host === '') throw new DevkitError(`docker context ${name} names no docker host`);
  const tls = tlsFiles(path.join(store, 'tls', id, 'docker'), meta.Endpoints?.docker?.SkipTLSVerify !== true);
  // A context's tcp endpoint speaks TLS when the context holds TLS material or skips checking it (as the docker CLI does).
  const usesTls = tls.ca !== null || tls.cert !== null || !tls.verify;
  return parseHost(host, name, usesTls ? tls : null);
}

/** The engine devkit talks to (see above), or the docker context named (devkit.yml's engine keys) when one is. */
export function resolveEndpoint(env: NodeJS.ProcessEnv, context: string | null = null): EngineEndpoint {
  const name = context ?? contextName(env);
  return name === DEFAULT_CONTEXT ? defaultEndpoint(env) : storedEndpoint(env, name);
}

/** This machine's engine, where images are built: the docker CLI's when it is local, else the default socket. */
export function machineEndpoint(env: NodeJS.ProcessEnv): EngineEndpoint {
  const chosen = resolveEndpoint(env);
  return isLocalEngine(chosen) ? chosen : { kind: 'unix', path: DEFAULT_SOCKET, context: DEFAULT_CONTEXT };
}

/**
 * Whether the engine runs on this machine and sees its files (a unix
 * socket): agents there work in copies under the dev root; on any other
 * engine, in copies kept in volumes there (stack/remote-copy.ts).
 */
export function isLocalEngine(endpoint: EngineEndpoint): boolean {
  return endpoint.kind === 'unix';
}

/** The endpoint as the docker CLI writes it, for messages. */
export function describeEndpoint(endpoint: EngineEndpoint): string {
  const context = endpoint.context === DEFAULT_CONTEXT ? '' : ` (context ${endpoint.context})`;
  switch (endpoint.kind) {
    case 'unix':
      return `${endpoint.path}${context}`;
    case 'tcp':
      return `tcp://${endpoint.host}:${endpoint.port}${endpoint.tls === null ? '' : ' with TLS'}${context}`;
    case 'ssh': {
      const user = endpoint.user === null ? '' : `${endpoint.user}@`;
      return `ssh://${user}${endpoint.host}${endpoint.port === null ? '' : `:${endpoint.port}`}${context}`;
    }
  }
}
