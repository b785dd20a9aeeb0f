import { execFile } from 'node:child_process';
import path from 'node:path';
import { debugError } from '../debug.js';
import { DevkitError, oneLine } from '../errors.js';
import { envMs, pollUntil } from '../poll.js';
import { runBatched } from '../process-batch.js';

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

// Variables that would point git at another repository, object store or config than devkit names.
const REPO_SELECTING_VARS = new RegExp(
  '^GIT_(DIR|WORK_TREE|INDEX_FILE|COMMON_DIR|OBJECT_DIRECTORY|ALTERNATE_OBJECT_DIRECTORIES|NAMESPACE|CEILING_DIRECTORIES|' +
    'DISCOVERY_ACROSS_FILESYSTEM|CONFIG_PARAMETERS|CONFIG_COUNT|CONFIG_KEY_\\d+|CONFIG_VALUE_\\d+|QUARANTINE_PATH|' +
    'REPLACE_REF_BASE|GRAFT_FILE|SHALLOW_FILE)$',
);

/**
 * Settings every git devkit runs on the host gets, on top of the repository's
 * own: nothing that runs a program (hooks, fsmonitor, pagers, external diffs,
 * ext:: transports), no recursion into nested repositories, no replace refs.
 * `-c` values are inherited by the gits git starts (GIT_CONFIG_PARAMETERS).
 */
export const HARDENING = [
  'core.fsmonitor=false',
  'core.hooksPath=/dev/null',
  'core.pager=cat',
  'diff.external=',
  'submodule.recurse=false',
  'diff.ignoreSubmodules=all',
  'status.submoduleSummary=false',
  'protocol.ext.allow=never',
  'core.untrackedCache=false',
  'core.splitIndex=false',
].flatMap((setting) => ['-c', setting]);

/** The exit code of a git killed for taking too long (as coreutils' timeout has it). */
export const TIMED_OUT = 124;

export function gaveNoAnswer(timeoutMs: number): string {
  return `git gave no answer within ${Math.round(timeoutMs / 1000)} s and was stopped (a file in the copy too big to read?)`;
}

/** How devkit runs git: the process's environment, cleaned once, and where to log. */
export interface GitBase {
  env: Record<string, string>;
  debug: boolean;
  /** How long a step waits while another git holds one of git's lock files. */
  lockWaitMs: number;
}

export function gitBase(processEnv: NodeJS.ProcessEnv): GitBase {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(processEnv)) {
    if (value !== undefined && !REPO_SELECTING_VARS.test(key)) env[key] = value;
  }
  // English messages, so lock errors can be recognised; never prompt; no replace refs or grafts.
  Object.assign(env, { LC_ALL: 'C', LANGUAGE: 'C', GIT_TERMINAL_PROMPT: '0', GIT_NO_REPLACE_OBJECTS: '1', GIT_OPTIONAL_LOCKS: '0' });
  return { env, debug: Boolean(processEnv.DEVKIT_DEBUG), lockWaitMs: envMs(processEnv, 'DEVKIT_GIT_LOCK_WAIT_MS', 10_000) };
}

export interface GitCall {
  /** Extra environment for this call. */
  env?: Record<string, string>;
  input?: string | Buffer;
  /** Run as this user (devkit as root making an agent's files). */
  user?: { uid: number; gid: number } | null;
  /** Run with the other programs asked for in this turn, through one shell (process-batch.ts); takes no input or user. */
  batched?: boolean;
  /** Kill git when it has not finished by then (git over an agent's copy, which can make it read for hours). */
  timeoutMs?: number;
}

// git's words when one of its lock files exists; each yields the lock file's path.
const LOCK_PATTERNS: Array<[RegExp, (match: string) => string]> = [
  [/Unable to create '([^']+\.lock)': File exists/, (lock) => lock],
  [/could not lock config file ([^:]+): File exists/, (config) => `${config}.lock`],
  [/cannot lock ref '[^']+': .*?'([^']+\.lock)'/, (lock) => lock],
];

function lockPathIn(stderr: string, cwd: string): string | null {
  for (const [pattern, toLockPath] of LOCK_PATTERNS) {
    const match = pattern.exec(stderr);
    if (match?.[1] !== undefined) return path.resolve(cwd, toLockPath(match[1]));
  }
  return null;
}

/**
 * git in one folder, with devkit's hardening. `Git` runs in repositories devkit
 * trusts (the shared repo, its backups, its views of copies); git in an
 * agent's copy goes through copy-git.ts, which builds such a view first.
 */
export class Git {
  constructor(
    private readonly base: GitBase,
    readonly cwd: string,
    /** Arguments before the command: --git-dir, --work-tree. */
    private readonly prefix: readonly string[] = [],
    /** What every call gets unless it says otherwise (a time limit). */
    private readonly defaults: Pick<GitCall, 'timeoutMs'> = {},
  ) {}

  /** The same runner in another folder or with another git dir. */
  at(cwd: string, prefix: readonly string[] = []): Git {
    return new Git(this.base, cwd, prefix, this.defaults);
  }

  /**
   * Runs git and returns its result whatever the exit code. Spawned with
   * node's own execFile, not execa: status runs one git per agent on every
   * call, and execa's wrapping costs about half a millisecond each.
   */
  async result(args: readonly string[], call: GitCall = {}): Promise<GitResult> {
    const started = Date.now();
    const full = [...HARDENING, ...this.prefix, ...args];
    if (call.batched && (call.input !== undefined || call.user)) throw new Error('a batched git takes no input and runs as devkit');
    const timeoutMs = call.timeoutMs ?? this.defaults.timeoutMs;
    const result = call.batched
      ? await runBatched(this.base.env, { cwd: this.cwd, argv: ['git', ...full], env: call.env, timeoutMs })
      : await new Promise<GitResult>((resolve) => {
          const child = execFile(
            'git',
            full,
            {
              cwd: this.cwd,
              env: { ...this.base.env, ...call.env },
              maxBuffer: 1024 * 1024 * 1024,
              encoding: 'utf8',
              ...(timeoutMs === undefined ? {} : { timeout: timeoutMs, killSignal: 'SIGKILL' as const }),
              ...(call.user ?? {}),
            },
            (error, stdout, stderr) => {
              if (error?.killed === true && timeoutMs !== undefined) {
                resolve({ stdout, stderr: gaveNoAnswer(timeoutMs), exitCode: TIMED_OUT });
                return;
              }
              const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
              resolve({
                stdout,
                stderr: stderr || (error !== null && typeof error.code !== 'number' ? error.message : ''),
                exitCode: code,
              });
            },
          );
          // A git that exits before reading all its input (a bad argument) closes the pipe: its exit code says what went wrong.
          child.stdin?.on('error', (error) => debugError(`writing the input of git ${args.join(' ')}`, error));
          if (call.input === undefined) child.stdin?.end();
          else child.stdin?.end(call.input);
        });
    if (this.base.debug)
      process.stderr.write(
        `devkit: debug: git ${[...this.prefix, ...args].join(' ')} (${this.cwd}) -> ${result.exitCode} in ${Date.now() - started} ms\n`,
      );
    return result;
  }

  /** Runs git; throws GitLockBusyError or GitError when it fails. Returns stdout. */
  async run(args: readonly string[], call: GitCall = {}): Promise<string> {
    const result = await this.result(args, call);
    if (result.exitCode !== 0) {
      const lockPath = lockPathIn(result.stderr, this.cwd);
      throw lockPath === null ? new GitError(args, result) : new GitLockBusyError(args, result, lockPath);
    }
    return result.stdout;
  }

  /** git for one atomic mutation (a config write, a ref update), retried while a git lock is busy. */
  mutate(args: readonly string[], call: GitCall = {}): Promise<string> {
    return this.retryOnGitLock(() => this.run(args, call));
  }

  /**
   * Runs a step that changes the repo, again while a git lock file (index.lock,
   * config.lock, a ref lock) is held by someone else, for a bounded time
   * (DEVKIT_GIT_LOCK_WAIT_MS, default 10 s). The step must be safe to run again
   * after a lock failure: git changes nothing when it cannot take a lock.
   */
  async retryOnGitLock<T>(step: () => Promise<T>): Promise<T> {
    let busy: GitLockBusyError | null = null;
    const done = await pollUntil(
      async () => {
        try {
          return { value: await step() };
        } catch (error) {
          if (!(error instanceof GitLockBusyError)) throw error;
          busy = error;
          return undefined;
        }
      },
      { timeoutMs: this.base.lockWaitMs, intervalMs: 25, maxIntervalMs: 500 },
    );
    if (done !== undefined) return done.value;
    const lock = (busy as GitLockBusyError | null)?.lockPath ?? 'a git lock';
    throw new DevkitError(
      `git lock ${lock} is still held after ${Math.round(this.base.lockWaitMs / 1000)} s: another git process is using the repo; ` +
        'if none is running the lock is stale, and devkit worktrees prune --apply removes it',
      { cause: busy },
    );
  }
}

export function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}
