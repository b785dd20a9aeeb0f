import { execa } from 'execa';
import path from 'node:path';
import { DevkitError, oneLine } from '../errors.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface GitOptions {
  /** Directory git runs in (`git -C`). */
  cwd: string;
  /** Extra environment, on top of the cleaned process environment. */
  env?: Record<string, string>;
  input?: string;
}

export interface GitResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** A git command that failed; the message is git's own last words, on one line. */
export class GitError extends DevkitError {
  readonly result: GitResult;
  constructor(args: readonly string[], result: GitResult) {
    super(`git ${args.join(' ')} failed: ${oneLine(result.stderr || result.stdout) || `exit ${result.exitCode}`}`);
    this.name = 'GitError';
    this.result = result;
  }
}

/** git could not take one of its lock files because another process holds it. */
export class GitLockBusyError extends GitError {
  readonly lockPath: string;
  constructor(args: readonly string[], result: GitResult, lockPath: string) {
    super(args, result);
    this.name = 'GitLockBusyError';
    this.lockPath = lockPath;
  }
}

// Variables that would point git at another repository than the one we name.
const REPO_SELECTING_VARS = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_COMMON_DIR', 'GIT_OBJECT_DIRECTORY', 'GIT_NAMESPACE'];

function gitEnv(extra: Record<string, string> | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !REPO_SELECTING_VARS.includes(key)) env[key] = value;
  }
  // English messages, so lock errors can be recognised; never prompt.
  return { ...env, LC_ALL: 'C', LANGUAGE: 'C', GIT_TERMINAL_PROMPT: '0', ...extra };
}

// git's words when one of its lock files exists; each yields the lock file's path.
const LOCK_PATTERNS: Array<[RegExp, (match: string) => string]> = [
  [/Unable to create '([^']+\.lock)': File exists/, (lock) => lock],
  [/could not lock config file ([^:]+): File exists/, (config) => `${config}.lock`],
  [/cannot lock ref '[^']+': .*?'([^']+\.lock)'/, (lock) => lock],
];

/** The absolute path of the git lock file that stopped git, or null when something else did. */
function lockPathIn(stderr: string, cwd: string): string | null {
  for (const [pattern, toLockPath] of LOCK_PATTERNS) {
    const match = pattern.exec(stderr);
    if (match?.[1] !== undefined) return path.resolve(cwd, toLockPath(match[1]));
  }
  return null;
}

/** Runs git and returns its result whatever the exit code. */
export async function gitResult(args: readonly string[], options: GitOptions): Promise<GitResult> {
  const started = Date.now();
  const child = await execa('git', args, {
    cwd: options.cwd,
    env: gitEnv(options.env),
    extendEnv: false,
    reject: false,
    stripFinalNewline: false,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
  });
  if (process.env.DEVKIT_DEBUG) {
    process.stderr.write(`devkit: git ${args.join(' ')} (${options.cwd}) -> ${child.exitCode} in ${Date.now() - started} ms\n`);
  }
  return { stdout: String(child.stdout), stderr: String(child.stderr), exitCode: child.exitCode ?? 1 };
}

/** Runs git; throws GitLockBusyError or GitError when it fails. Returns stdout. */
export async function git(args: readonly string[], options: GitOptions): Promise<string> {
  const result = await gitResult(args, options);
  if (result.exitCode !== 0) {
    const lockPath = lockPathIn(result.stderr, options.cwd);
    throw lockPath === null ? new GitError(args, result) : new GitLockBusyError(args, result, lockPath);
  }
  return result.stdout;
}

export function lockWaitMs(): number {
  const raw = process.env.DEVKIT_GIT_LOCK_WAIT_MS;
  const parsed = raw === undefined ? Number.NaN : Number(raw);
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : 10_000;
}

/**
 * Runs a step that mutates the repo, retrying it while a git lock file
 * (index.lock, config.lock, a ref lock) is held by someone else, for a bounded
 * time (DEVKIT_GIT_LOCK_WAIT_MS, default 10 s). The step must be safe to run
 * again after a lock failure: git changes nothing when it cannot take a lock,
 * and composite steps re-read the state they act on.
 */
export async function retryOnGitLock<T>(step: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + lockWaitMs();
  let delay = 25;
  for (;;) {
    try {
      return await step();
    } catch (error) {
      if (!(error instanceof GitLockBusyError)) throw error;
      if (Date.now() >= deadline) {
        throw new DevkitError(
          `git lock ${error.lockPath} is still held after ${Math.round(lockWaitMs() / 1000)} s: another git process is using the repo; ` +
            `if none is running the lock is stale, and devkit worktrees prune --apply removes it`,
          { cause: error },
        );
      }
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
      delay = Math.min(delay * 2, 500);
    }
  }
}

/** git for one atomic mutation (a config write, a ref update), retried while a git lock is busy. */
export function gitMutate(args: readonly string[], options: GitOptions): Promise<string> {
  return retryOnGitLock(() => git(args, options));
}

export function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}
