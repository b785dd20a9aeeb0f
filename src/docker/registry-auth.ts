import { execa } from 'execa';
import path from 'node:path';
import { DevkitError, oneLine } from '../errors.js';
import { isRecord } from '../json-object.js';
import { dockerConfigDir, readDockerConfig } from './docker-config.js';

/**
 * The credentials for a registry as the docker CLI finds them (`docker login`
 * put them there): a credential helper for that host (`credHelpers`), else the
 * credential store (`credsStore`), else the `auths` entry of the docker
 * config. They go to an engine in the X-Registry-Auth header, which is how the
 * engine, not devkit, logs in to the registry for a push or a pull.
 */
export interface RegistryCredentials {
  username?: string;
  password?: string;
  identitytoken?: string;
  serveraddress: string;
}

/** Docker Hub's key in the docker config, as `docker login` writes it. */
const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

/** The registry's host (and port) in an image reference's prefix: `registry.example:5000/team` → `registry.example:5000`. */
export function registryHost(registry: string): string {
  return registry.split('/')[0] ?? registry;
}

/** A docker config key (`https://host/v1/`, `host`) as the host it is for. */
function keyHost(key: string): string {
  return key.replace(/^https?:\/\//, '').split('/')[0] ?? key;
}

/** The helper's answer to `get`, or null when it has nothing for the host. */
async function fromHelper(helper: string, host: string, env: NodeJS.ProcessEnv): Promise<RegistryCredentials | null> {
  const program = `docker-credential-${helper}`;
  const serverAddress = host === 'docker.io' ? DOCKER_HUB_KEY : host;
  const result = await execa(program, ['get'], { input: serverAddress, env, reject: false });
  if (result.failed && result.exitCode === undefined) {
    const why = oneLine(result.shortMessage ?? result.message ?? 'it did not start');
    throw new DevkitError(`the docker config names the credential helper ${helper}, but ${program} cannot run: ${why}`);
  }
  if (result.exitCode !== 0) {
    // What every helper (docker-credential-helpers) says for a host it has nothing for.
    if (/credentials not found/i.test(result.stdout + result.stderr)) return null;
    throw new DevkitError(`${program} get failed for ${host}: ${oneLine(result.stderr || result.stdout) || `exit ${result.exitCode}`}`);
  }
  let answer: unknown;
  try {
    answer = JSON.parse(result.stdout);
  } catch {
    throw new DevkitError(`${program} get answered something that is not JSON for ${host}`);
  }
  if (!isRecord(answer) || typeof answer.Username !== 'string' || typeof answer.Secret !== 'string')
    throw new DevkitError(`${program} get answered without Username and Secret for ${host}`);
  // A helper keeps an identity token under the user name "<token>" (as the docker CLI does).
  if (answer.Username === '<token>') return { identitytoken: answer.Secret, serveraddress: serverAddress };
  return { username: answer.Username, password: answer.Secret, serveraddress: serverAddress };
}

/** The `auths` entry for the host: `auth` is base64 of user:password, as `docker login` writes it. */
function fromAuths(auths: unknown, host: string, file: string): RegistryCredentials | null {
  if (!isRecord(auths)) return null;
  const entry = Object.entries(auths).find(([key]) => keyHost(key) === host || (host === 'docker.io' && key === DOCKER_HUB_KEY));
  if (entry === undefined || !isRecord(entry[1])) return null;
  const [key, fields] = entry;
  if (typeof fields.identitytoken === 'string' && fields.identitytoken !== '')
    return { identitytoken: fields.identitytoken, serveraddress: key };
  if (typeof fields.auth === 'string' && fields.auth !== '') {
    const decoded = Buffer.from(fields.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new DevkitError(`${file}: the auths entry for ${key} is not base64 of user:password: docker login ${host} again`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), serveraddress: key };
  }
  return null;
}

/** The credentials for the registry at `host`; null when the docker config has none (an open registry). */
export async function findCredentials(env: NodeJS.ProcessEnv, host: string): Promise<RegistryCredentials | null> {
  const config = readDockerConfig(env);
  if (config === null) return null;
  const helpers = isRecord(config.credHelpers) ? config.credHelpers : {};
  const helper = Object.entries(helpers).find(([key]) => keyHost(key) === host)?.[1];
  if (typeof helper === 'string' && helper !== '') return fromHelper(helper, host, env);
  if (typeof config.credsStore === 'string' && config.credsStore !== '') {
    const stored = await fromHelper(config.credsStore, host, env);
    if (stored !== null) return stored;
  }
  return fromAuths(config.auths, host, path.join(dockerConfigDir(env), 'config.json'));
}

/**
 * The X-Registry-Auth value for these credentials: their JSON in URL-safe
 * base64 with its padding, which is what the engine decodes (an empty object
 * for none: the engine then tries without logging in).
 */
export function registryAuthHeader(credentials: RegistryCredentials | null): string {
  const json = JSON.stringify(credentials ?? {});
  return Buffer.from(json, 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}
