import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { descendantsOf } from './proc.js';

/**
 * Programs run side by side, started by one shell. status runs a git and a
 * du per agent on every call, and starting a process from node costs a few
 * milliseconds of devkit's own time each (node is a big process to fork):
 * the shell, a small one, starts them for much less.
 *
 * The shell takes one job line at a time on its stdin, so a program starts
 * the moment it is asked for (status asks for a copy's git status as soon as
 * it has read that copy, while it reads the next). Each program's output goes
 * to files of a private folder; the shell says on its stdout when a program
 * is done, with its exit code, and devkit reads its files then. Once nothing
 * is running and nothing more was asked in that turn of the event loop, the
 * shell's stdin is closed: it waits for its programs and removes the folder
 * itself, also when devkit was killed (its stdin closes then too).
 */

/** One program of a batch: where it runs, its command line, and environment on top of the batch's. */
export interface BatchCall {
  cwd: string;
  argv: readonly string[];
  env?: Readonly<Record<string, string>>;
  /** Killed, with the programs it started, and given exit code 124, when it has not finished by then. */
  timeoutMs?: number;
}

export interface BatchResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

type BaseEnv = Readonly<Record<string, string>>;

/**
 * The shell: $1 is the output folder. `NL` lets a job line carry a newline
 * inside a quoted argument. It ignores Ctrl-C and a hang-up, as its programs
 * do (a shell's background jobs ignore SIGINT): when devkit goes, its stdin
 * closes, and it cleans up once they are done.
 */
const SHELL_SCRIPT = `trap '' INT HUP
dir=$1
NL='
'
while IFS= read -r job; do eval "$job"; done
wait
rm -rf "$dir"`;

const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

function quote(text: string): string {
  if (PLAIN.test(text)) return text; // nothing the shell would read as anything but itself
  if (text.includes('\0')) throw new Error('a NUL byte cannot be passed to a program');
  // One job is one line on the shell's stdin: a newline travels as "$NL".
  return `'${text.replaceAll("'", "'\\''").replaceAll('\n', `'"$NL"'`)}'`;
}

/** The shell line that starts job `id`: it reports `pid <id> <pid>` when started and `done <id> <exit code>` when finished. */
function jobLine(call: BatchCall, id: number): string {
  // The shell's own VAR=value prefix: no env process per job.
  const env = Object.entries(call.env ?? {}).map(([key, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`not an environment variable name: ${key}`);
    return `${key}=${quote(value)}`;
  });
  const command = [...env, 'exec', ...call.argv.map(quote)].join(' ');
  return `( ( cd ${quote(call.cwd)} && ${command} ) >"$dir/${id}.out" 2>"$dir/${id}.err"; echo "done ${id} $?" ) & echo "pid ${id} $!"`;
}

interface Job {
  call: BatchCall;
  resolve: (result: BatchResult) => void;
  pid: number | null;
  timer: NodeJS.Timeout | null;
}

function killTree(pid: number): void {
  for (const each of [...descendantsOf(pid), pid]) {
    try {
      process.kill(each, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

/** One shell and the jobs it runs (see above). */
class BatchShell {
  private readonly jobs = new Map<number, Job>();
  /** Jobs past their deadline whose pid had not come yet: killed when it comes. */
  private readonly killWhenStarted = new Set<number>();
  private pendingOutput = '';
  private closing = false;

  private constructor(
    private readonly dir: string,
    private readonly shell: ChildProcessWithoutNullStreams,
    private readonly onClosed: () => void,
  ) {
    shell.stdout.setEncoding('utf8');
    shell.stdout.on('data', (chunk: string) => this.heard(chunk));
    shell.stderr.resume(); // the shell's own complaints (a folder that cannot be entered goes to the job's file)
    shell.stdin.on('error', () => undefined); // a shell that died: its exit says so
    shell.on('error', (error) => {
      this.failAll(`devkit could not start a shell for its programs: ${error.message}`);
      rmSync(dir, { recursive: true, force: true }); // no shell to remove it
    });
    shell.on('exit', () => this.failAll('the shell running it stopped'));
  }

  static start(env: BaseEnv, onClosed: () => void): BatchShell {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'devkit-batch-'));
    const shell = spawn('sh', ['-c', SHELL_SCRIPT, 'sh', dir], { env, stdio: 'pipe' });
    return new BatchShell(dir, shell, onClosed);
  }

  get open(): boolean {
    return !this.closing;
  }

  /** Starts `call` as job `id` (its shell line made by jobLine). */
  run(call: BatchCall, line: string, id: number): Promise<BatchResult> {
    return new Promise((resolve) => {
      const job: Job = { call, resolve, pid: null, timer: null };
      this.jobs.set(id, job);
      if (call.timeoutMs !== undefined) job.timer = setTimeout(() => this.overdue(id), call.timeoutMs);
      this.shell.stdin.write(`${line}\n`);
    });
  }

  private heard(chunk: string): void {
    const lines = (this.pendingOutput + chunk).split('\n');
    this.pendingOutput = lines.pop() ?? '';
    for (const line of lines) {
      const [what, idText, value] = line.split(' ');
      const id = Number(idText);
      if (what === 'pid' && this.killWhenStarted.delete(id)) killTree(Number(value));
      const job = this.jobs.get(id);
      if (job === undefined) continue;
      if (what === 'pid') job.pid = Number(value);
      else if (what === 'done') this.finish(id, { stdout: this.read(id, 'out'), stderr: this.read(id, 'err'), exitCode: Number(value) });
    }
  }

  private read(id: number, stream: 'out' | 'err'): string {
    try {
      return readFileSync(path.join(this.dir, `${id}.${stream}`), 'utf8');
    } catch {
      return '';
    }
  }

  private overdue(id: number): void {
    const job = this.jobs.get(id);
    if (job === undefined) return;
    if (job.pid === null) this.killWhenStarted.add(id);
    else killTree(job.pid);
    // As coreutils' timeout says it: 124.
    const seconds = Math.round((job.call.timeoutMs ?? 0) / 1000);
    this.finish(id, { stdout: this.read(id, 'out'), stderr: `timed out after ${seconds} s`, exitCode: 124 });
  }

  private finish(id: number, result: BatchResult): void {
    const job = this.jobs.get(id);
    if (job === undefined) return;
    if (job.timer !== null) clearTimeout(job.timer);
    this.jobs.delete(id);
    job.resolve(result);
    if (this.jobs.size === 0) setImmediate(() => this.closeWhenIdle());
  }

  /** Tells the shell nothing more comes (it then cleans up after itself), unless a job was asked for meanwhile. */
  private closeWhenIdle(): void {
    if (this.jobs.size > 0 || this.closing) return;
    this.closing = true;
    this.onClosed();
    this.shell.stdin.end();
    // devkit does not wait for the clean-up.
    this.shell.unref();
    this.shell.stdout.destroy();
    this.shell.stderr.destroy();
  }

  private failAll(stderr: string): void {
    for (const id of [...this.jobs.keys()]) this.finish(id, { stdout: '', stderr, exitCode: 1 });
    if (!this.closing) {
      this.closing = true;
      this.onClosed();
    }
  }
}

/** The shell taking calls now, per base environment. */
const shells = new Map<BaseEnv, BatchShell>();
/** Job numbers, unique in this process (a job's output files are named by it). */
let nextJob = 0;

/**
 * Runs a program through the shell of its base environment, started now when
 * there is none: callers that know nothing of each other share one shell. A
 * call that cannot be written as a shell line throws; one that cannot run
 * gets exit code 1 and says why.
 */
export function runBatched(baseEnv: BaseEnv, call: BatchCall): Promise<BatchResult> {
  const id = nextJob++;
  let line: string;
  try {
    line = jobLine(call, id);
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
  let shell = shells.get(baseEnv);
  if (shell === undefined || !shell.open) {
    try {
      const started = BatchShell.start(baseEnv, () => {
        if (shells.get(baseEnv) === started) shells.delete(baseEnv);
      });
      shell = started;
    } catch (error) {
      const stderr = `devkit could not make a folder for its programs' output: ${error instanceof Error ? error.message : String(error)}`;
      return Promise.resolve({ stdout: '', stderr, exitCode: 1 });
    }
    shells.set(baseEnv, shell);
  }
  return shell.run(call, line, id);
}

/**
 * Runs `calls` side by side now; their results, in order, when all are done.
 * A batch holding a call that cannot be written runs none of it.
 */
export async function runBatch(baseEnv: BaseEnv, calls: readonly BatchCall[]): Promise<BatchResult[]> {
  calls.forEach((call) => jobLine(call, 0)); // throws before anything runs
  return Promise.all(calls.map((call) => runBatched(baseEnv, call)));
}
