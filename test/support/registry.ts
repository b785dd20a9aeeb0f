import { execa, type ResultPromise } from 'execa';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pollUntil } from '../../src/poll.js';
import type { SecondEngine } from './second-engine.js';

/**
 * A real container registry for tests of `registry:` (Debian's docker-registry,
 * which scripts/test-registry.sh install puts on the PATH), asking for a user
 * and password (htpasswd). It serves a unix socket; a small forwarder
 * (loopback-forward.mjs) serves that on 127.0.0.1:PORT of this machine, and
 * reachFrom() on the same address in a second engine's namespace. Both
 * engines then reach it under one name, on a loopback, which an engine
 * speaks plain HTTP to without being told to.
 */
export interface TestRegistry {
  /** 127.0.0.1:PORT */
  address: string;
  user: string;
  password: string;
  /** Writes the credentials into a docker config's auths, as `docker login` would. */
  login(dockerConfig: string): void;
  /**
   * Serves it at `address` in that engine's namespace too; with `tagInstead`,
   * as a registry that lies there: a manifest asked for by a tag devkit uses
   * is that tag's manifest (swapping-registry.mjs).
   */
  reachFrom(engine: SecondEngine, options?: { tagInstead?: string }): Promise<void>;
  /** The repositories it holds, as its catalog lists them. */
  repositories(): Promise<string[]>;
  /** Ends the registry and its forwarders and removes its folder. */
  stop(): Promise<void>;
}

const FORWARDER = fileURLToPath(new URL('./loopback-forward.mjs', import.meta.url));
const SWAPPER = fileURLToPath(new URL('./swapping-registry.mjs', import.meta.url));
const SECOND_ENGINE = fileURLToPath(new URL('../../scripts/second-engine.sh', import.meta.url));

/** The port a forwarder printed once it listens; fails with its stderr when it exits first. */
async function listening(child: ResultPromise): Promise<number> {
  if (child.stdout === null) throw new Error('the forwarder has no stdout');
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) {
    lines.close();
    return Number(line);
  }
  const result = await child.catch((error: unknown) => error as { stderr?: string });
  throw new Error(`the forwarder ended before listening: ${String(result.stderr)}`);
}

/** A bcrypt hash (the only kind the registry's htpasswd takes), by libc's crypt through perl, which every Debian has. */
async function bcrypt(password: string): Promise<string> {
  const salt = '$2b$05$abcdefghijklmnopqrstuu'; // a fixed salt: nothing here is secret
  const { stdout } = await execa('perl', ['-e', 'print crypt($ARGV[0], $ARGV[1])', password, salt], { stdin: 'ignore' });
  if (!stdout.startsWith('$2b$')) throw new Error(`perl's crypt made no bcrypt hash (${stdout})`);
  return stdout;
}

export async function startRegistry(): Promise<TestRegistry> {
  const binary = await execa('sh', ['-c', 'command -v docker-registry'], { reject: false, stdin: 'ignore' });
  if (binary.exitCode !== 0)
    throw new Error('docker-registry is not on the PATH: run scripts/test-registry.sh install (scripts/test.sh does)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'devkit-registry-'));
  const socket = path.join(dir, 'registry.sock');
  const user = 'devkit-test';
  const password = `pw-${process.pid}-${Date.now()}`;
  const children: ResultPromise[] = [];
  const stop = async (): Promise<void> => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.allSettled(children);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    mkdirSync(path.join(dir, 'data'));
    writeFileSync(path.join(dir, 'htpasswd'), `${user}:${await bcrypt(password)}\n`);
    writeFileSync(
      path.join(dir, 'config.yml'),
      [
        'version: 0.1',
        'log: { level: warn }',
        `storage: { filesystem: { rootdirectory: ${path.join(dir, 'data')} }, delete: { enabled: true } }`,
        `http: { net: unix, addr: ${socket} }`,
        `auth: { htpasswd: { realm: devkit-test, path: ${path.join(dir, 'htpasswd')} } }`,
        '',
      ].join('\n'),
    );
    const registry = execa('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdin: 'ignore', reject: false, all: true });
    children.push(registry);
    // Listening (its socket is there), or ended; pollUntil gives up after 10 s either way.
    await pollUntil(() => (existsSync(socket) || registry.exitCode !== null ? true : undefined), { timeoutMs: 10_000, intervalMs: 100 });
    if (!existsSync(socket)) {
      registry.kill('SIGKILL');
      throw new Error(`docker-registry is not listening on ${socket} after 10 s: ${(await registry).all}`);
    }
    const forwarder = execa('node', [FORWARDER, '0', socket], { stdin: 'ignore' });
    children.push(forwarder);
    const address = `127.0.0.1:${await listening(forwarder)}`;
    const port = address.split(':')[1] ?? '';
    return {
      address,
      user,
      password,
      login: (dockerConfig) => {
        const file = path.join(dockerConfig, 'config.json');
        const config = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { auths?: Record<string, unknown> }) : {};
        config.auths = { ...config.auths, [address]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } };
        writeFileSync(file, JSON.stringify(config, null, 2));
      },
      reachFrom: async (engine, options = {}) => {
        const server = options.tagInstead === undefined ? [FORWARDER, port, socket] : [SWAPPER, port, socket, options.tagInstead];
        const inside = execa(SECOND_ENGINE, ['exec', engine.dir, 'node', ...server], { stdin: 'ignore' });
        children.push(inside);
        await listening(inside);
      },
      repositories: async () => {
        const response = await fetch(`http://${address}/v2/_catalog`, {
          headers: { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
        });
        if (!response.ok) throw new Error(`the registry's catalog answered ${response.status}`);
        return ((await response.json()) as { repositories: string[] }).repositories;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
