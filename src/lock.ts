import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { DevkitError } from './errors.js';
import type { Io } from './io.js';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * devkit's own lock on a repository: every devkit command that changes the
 * repo holds it, so concurrent devkit runs serialise instead of racing on git's
 * shared files (config, refs, worktree admin folders).
 *
 * The lock is a file holding its owner (pid, process start time, host,
 * command). It is created atomically with link(2), so it is never seen empty.
 * An owner that died (kill -9, a crash) leaves the file behind; the next run
 * sees the pid is gone and breaks the lock, under a short-lived breaker file
 * so that two waiters never both break it.
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
  path: string;
  /** What the holder is doing, shown to whoever waits. */
  command: string;
  io: Io;
  /** How long to wait for another holder; DEVKIT_LOCK_WAIT_MS overrides it. */
  waitMs?: number;
}

const BREAKER_STALE_MS = 10_000;
const UNREADABLE_STALE_MS = 30_000;

function processStart(pid: number): string | null {
  try {
    // Field 22 of /proc/PID/stat, counted after the command name in parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function ownerIsAlive(owner: LockOwner): boolean {
  if (owner.host !== os.hostname()) return true; // cannot tell; never break a remote holder's lock
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const start = processStart(owner.pid);
  return owner.start === null || start === null || start === owner.start;
}

function readOwner(lockPath: string): { text: string; owner: LockOwner | null } | null {
  let text: string;
  try {
    text = readFileSync(lockPath, 'utf8');
  } catch {
    return null; // released meanwhile
  }
  try {
    return { text, owner: JSON.parse(text) as LockOwner };
  } catch {
    return { text, owner: null };
  }
}

function ageMs(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** Creates `target` holding `text`, atomically; false when it already exists. */
function createExclusive(target: string, text: string): boolean {
  const temp = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(temp, text, { mode: 0o644 });
  try {
    linkSync(temp, target);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new DevkitError(`cannot create lock ${target}: ${(error as Error).message}`, { cause: error });
  } finally {
    unlinkSync(temp);
  }
}

/** Removes the lock if it still holds exactly `staleText`; under the breaker so only one waiter does it. */
function breakStaleLock(lockPath: string, staleText: string): void {
  const breaker = `${lockPath}.break`;
  if (!createExclusive(breaker, String(process.pid))) {
    if (ageMs(breaker) > BREAKER_STALE_MS) unlinkQuietly(breaker);
    return;
  }
  try {
    if (readOwner(lockPath)?.text === staleText) unlinkQuietly(lockPath);
  } finally {
    unlinkQuietly(breaker);
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

function describe(owner: LockOwner | null): string {
  return owner === null ? 'an unknown process' : `pid ${owner.pid} (devkit ${owner.command}, since ${owner.since})`;
}

export async function withRepoLock<T>(options: LockOptions, body: () => Promise<T>): Promise<T> {
  const fromEnv = Number(process.env.DEVKIT_LOCK_WAIT_MS);
  const waitMs = Number.isFinite(fromEnv) && fromEnv >= 0 ? fromEnv : (options.waitMs ?? 120_000);
  const me: LockOwner = {
    pid: process.pid,
    start: processStart(process.pid),
    host: os.hostname(),
    command: options.command,
    since: new Date().toISOString(),
  };
  const myText = JSON.stringify(me);
  const deadline = Date.now() + waitMs;
  let told = false;
  let delay = 10;
  while (!createExclusive(options.path, myText)) {
    const seen = readOwner(options.path);
    if (seen !== null) {
      const stale = seen.owner === null ? ageMs(options.path) > UNREADABLE_STALE_MS : !ownerIsAlive(seen.owner);
      if (stale) {
        options.io.log(`devkit: breaking a stale lock left by ${describe(seen.owner)}`);
        breakStaleLock(options.path, seen.text);
        continue;
      }
      if (Date.now() >= deadline) {
        throw new DevkitError(
          `another devkit is working on this repo: ${describe(seen.owner)} holds ${options.path}; try again when it is done`,
        );
      }
      if (!told) {
        options.io.log(`devkit: waiting for ${describe(seen.owner)} to finish`);
        told = true;
      }
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 200);
  }
  // Release on a normal exit even if the body never returns (process.exit, a signal handler).
  const release = (): void => {
    if (readOwner(options.path)?.text === myText) unlinkQuietly(options.path);
  };
  process.once('exit', release);
  try {
    return await body();
  } finally {
    process.removeListener('exit', release);
    release();
  }
}
