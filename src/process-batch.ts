import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { descendantsOf } from './proc.js';

/**
 * Programs run side by side, started by one shell. status runs a git and a
 * du per agent on every call, and starting a process from node costs a few
 * milliseconds of devkit's own time each (node is a big process to fork):
 * the shell, a small one, starts them for much less. Each program's output
 * goes to files of a private folder devkit reads when all are done.
 */

/** One program of a batch: where it runs, its command line, and environment on top of the batch's. */
export interface BatchCall {
  cwd: string;
  argv: readonly string[];
  env?: Readonly<Record<string, string>>;
  /**
   * Killed (and given exit code 124) when it has not finished by then. The
   * batch has one deadline, the longest its calls allow: every program still
   * running then is killed.
   */
  timeoutMs?: number;
}

export interface BatchResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

type BaseEnv = Readonly<Record<string, string>>;

function quote(text: string): string {
  if (text.includes('\0')) throw new Error('a NUL byte cannot be passed to a program');
  return `'${text.replaceAll("'", "'\\''")}'`;
}

function jobLine(call: BatchCall, output: string): string {
  // The shell's own VAR=value prefix: no env process per job.
  const env = Object.entries(call.env ?? {}).map(([key, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`not an environment variable name: ${key}`);
    return `${key}=${quote(value)}`;
  });
  const command = [...env, ...call.argv.map(quote)].join(' ');
  const [out, err, rc] = ['out', 'err', 'rc'].map((suffix) => quote(`${output}.${suffix}`));
  return `(cd ${quote(call.cwd)} && ${command} >${out} 2>${err}; echo $? >${rc}) &`;
}

function readResult(dir: string, i: number): BatchResult {
  const read = (suffix: string): string | null => {
    try {
      return readFileSync(path.join(dir, `${i}.${suffix}`), 'utf8');
    } catch {
      return null;
    }
  };
  const rc = Number(read('rc')?.trim() ?? 'x');
  return { stdout: read('out') ?? '', stderr: read('err') ?? '', exitCode: Number.isInteger(rc) ? rc : 1 };
}

/** Runs `calls` side by side now; their results, in order, when all are done. A call that cannot run gets exit code 1 and says why. */
export async function runBatch(baseEnv: BaseEnv, calls: readonly BatchCall[]): Promise<BatchResult[]> {
  if (calls.length === 0) return [];
  const lines = (dir: string): string[] => calls.map((call, i) => jobLine(call, path.join(dir, String(i))));
  lines('/'); // a call that cannot be written as a shell line throws here, before anything runs
  let dir: string;
  try {
    dir = mkdtempSync(path.join(os.tmpdir(), 'devkit-batch-'));
  } catch (error) {
    const stderr = `devkit could not make a folder for its programs' output: ${error instanceof Error ? error.message : String(error)}`;
    return calls.map(() => ({ stdout: '', stderr, exitCode: 1 }));
  }
  try {
    const script = `${lines(dir).join('\n')}\nwait`;
    // One deadline for the batch, the longest any call allows: then every program still running is killed.
    const deadline = Math.max(0, ...calls.map((call) => call.timeoutMs ?? 0));
    let stopped = false;
    await new Promise<void>((resolve) => {
      const shell = execFile('sh', ['-c', script], { env: baseEnv }, () => {
        clearTimeout(timer);
        resolve();
      });
      const timer = setTimeout(
        () => {
          stopped = true;
          for (const pid of [...descendantsOf(shell.pid ?? -1), shell.pid ?? -1]) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // gone meanwhile
            }
          }
        },
        deadline || 2 ** 31 - 1,
      );
    });
    return calls.map((call, i) => {
      const result = readResult(dir, i);
      // A call the deadline stopped wrote no exit code: 124, as coreutils' timeout says it.
      const timedOut = stopped && !existsSync(path.join(dir, `${i}.rc`));
      return timedOut ? { stdout: result.stdout, stderr: `timed out after ${Math.round(deadline / 1000)} s`, exitCode: 124 } : result;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Waiting {
  call: BatchCall;
  resolve: (result: BatchResult) => void;
  reject: (error: unknown) => void;
}

/** Calls made in this turn of the event loop, per base environment, not yet started. */
const gathering = new Map<BaseEnv, Waiting[]>();

/**
 * Runs a program in one batch with every other program asked for this way in
 * the same turn of the event loop (with the same base environment): callers
 * that know nothing of each other share one shell. The result comes when the
 * whole batch is done.
 */
export function runBatched(baseEnv: BaseEnv, call: BatchCall): Promise<BatchResult> {
  return new Promise((resolve, reject) => {
    jobLine(call, '/'); // throws now for a call that cannot run, failing this call alone
    let batch = gathering.get(baseEnv);
    if (batch === undefined) {
      const waiting: Waiting[] = [];
      batch = waiting;
      gathering.set(baseEnv, waiting);
      setImmediate(() => {
        gathering.delete(baseEnv);
        runBatch(
          baseEnv,
          waiting.map((w) => w.call),
        ).then(
          (results) => waiting.forEach((w, i) => w.resolve(results[i] ?? { stdout: '', stderr: 'no result', exitCode: 1 })),
          (error: unknown) => waiting.forEach((w) => w.reject(error)),
        );
      });
    }
    batch.push({ call, resolve, reject });
  });
}
