import os from 'node:os';
import path from 'node:path';
import { DevkitError } from '../errors.js';
import { createFileIn, lstatIn, readTextIn, removeFileIn, withSafeDir, type SafeDir } from '../fs/safe.js';
import type { Io } from '../cli/io.js';
import { envMs, pollUntil } from '../poll.js';
import { processAlive, processStart } from '../proc.js';

/**
 * devkit's lock on a dev root: every devkit command that changes the shared
 * repo or devkit's state holds it, so concurrent runs serialise instead of
 * racing. It lives in devkit's state folder, where no container can write
 * (an agent planting a lock could block every command).
 *
 * The lock file holds its owner (pid, process start time, host, command). An
 * owner that died (kill -9) leaves it behind; the next run sees the pid is gone
 * and breaks it, under a breaker file so two waiters never both break it. An
 * owner on another host cannot be checked from here: that is said at once,
 * with the command that clears it, rather than waited on in silence.
 */
export interface LockOwner {
  pid: number;
  /** Process start time from /proc, to tell a reused pid from the owner. */
  start: string | null;
  host: string;
  command: string;
  since: string;
}

export interface LockOptions {
  /** The lock file, in devkit's state folder. */
  file: string;
  /** What the holder is doing, shown to whoever waits. */
  command: string;
  io: Io;
  env: NodeJS.ProcessEnv;
}

const BREAKER_STALE_MS = 10_000;
const UNREADABLE_STALE_MS = 30_000;
const DEFAULT_WAIT_MS = 120_000;

function inLockDir<T>(file: string, body: (dir: SafeDir, name: string) => T): T {
  const result = withSafeDir(path.dirname(file), '', (dir) => body(dir, path.basename(file)));
  if (result === null) throw new DevkitError(`devkit's state folder ${path.dirname(file)} is missing`);
  return result;
}

function readOwner(file: string): { text: string; owner: LockOwner | null } | null {
  const text = inLockDir(file, (dir, name) => readTextIn(dir, name, 64 * 1024));
  if (text === null) return null; // released meanwhile
  try {
    const owner = JSON.parse(text) as LockOwner;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' ? { text, owner } : { text, owner: null };
  } catch {
    return { text, owner: null };
  }
}

function ageMs(file: string): number {
  const stat = inLockDir(file, (dir, name) => lstatIn(dir, name));
  return stat === null ? 0 : Date.now() - stat.mtimeMs;
}

function create(file: string, text: string): boolean {
  return inLockDir(file, (dir, name) => createFileIn(dir, name, text, { mode: 0o600 }));
}

function remove(file: string): void {
  inLockDir(file, (dir, name) => removeFileIn(dir, name));
}

/** Removes the lock if it still holds exactly `staleText`; under the breaker so only one waiter does it. */
function breakStaleLock(file: string, staleText: string): void {
  const breaker = `${file}.break`;
  if (!create(breaker, String(process.pid))) {
    if (ageMs(breaker) > BREAKER_STALE_MS) remove(breaker);
    return;
  }
  try {
    if (readOwner(file)?.text === staleText) remove(file);
  } finally {
    remove(breaker);
  }
}

function describe(owner: LockOwner | null): string {
  return owner === null ? 'an unknown process' : `pid ${owner.pid} (devkit ${owner.command}, since ${owner.since})`;
}

/** What stands in the way: a live owner here (wait), a dead one (break), or one on another host (say so). */
type Verdict =
  | { kind: 'free' }
  | { kind: 'wait'; owner: LockOwner | null }
  | { kind: 'stale'; text: string; owner: LockOwner | null }
  | { kind: 'foreign'; owner: LockOwner };

function judge(file: string): Verdict {
  const seen = readOwner(file);
  if (seen === null) return { kind: 'free' };
  if (seen.owner === null)
    return ageMs(file) > UNREADABLE_STALE_MS ? { kind: 'stale', text: seen.text, owner: null } : { kind: 'wait', owner: null };
  if (seen.owner.host !== os.hostname()) return { kind: 'foreign', owner: seen.owner };
  return processAlive(seen.owner.pid, seen.owner.start)
    ? { kind: 'wait', owner: seen.owner }
    : { kind: 'stale', text: seen.text, owner: seen.owner };
}

export async function withRepoLock<T>(options: LockOptions, body: () => Promise<T>): Promise<T> {
  const waitMs = envMs(options.env, 'DEVKIT_LOCK_WAIT_MS', DEFAULT_WAIT_MS);
  const me: LockOwner = {
    pid: process.pid,
    start: processStart(process.pid),
    host: os.hostname(),
    command: options.command,
    since: new Date().toISOString(),
  };
  const myText = JSON.stringify(me);
  let told = false;
  let lastOwner: LockOwner | null = null;
  const taken = await pollUntil(
    () => {
      if (create(options.file, myText)) return true;
      const verdict = judge(options.file);
      if (verdict.kind === 'foreign') {
        const { owner } = verdict;
        throw new DevkitError(
          `devkit's lock ${options.file} names pid ${owner.pid} on host ${owner.host} (devkit ${owner.command}, since ${owner.since}), ` +
            `which cannot be checked from here: if no devkit runs there, clear it with: rm -- '${options.file}'`,
        );
      }
      if (verdict.kind === 'stale') {
        options.io.log(`devkit: breaking a stale lock left by ${describe(verdict.owner)}`);
        breakStaleLock(options.file, verdict.text);
        return create(options.file, myText) ? true : undefined;
      }
      if (verdict.kind === 'wait') {
        lastOwner = verdict.owner;
        if (!told) options.io.log(`devkit: waiting for ${describe(verdict.owner)} to finish`);
        told = true;
      }
      return undefined;
    },
    { timeoutMs: waitMs, intervalMs: 10, maxIntervalMs: 200 },
  );
  if (taken === undefined) {
    throw new DevkitError(
      `another devkit is working on this dev root: ${describe(lastOwner)} holds ${options.file}; try again when it is done`,
    );
  }
  // Release on a normal exit even if the body never returns (process.exit, a signal handler).
  const release = (): void => {
    if (readOwner(options.file)?.text === myText) remove(options.file);
  };
  process.once('exit', release);
  try {
    return await body();
  } finally {
    process.removeListener('exit', release);
    release();
  }
}
