import { execa } from 'execa';
import { DevkitError, UsageError } from '../errors.js';

/** The tmux calls tmux-shells makes; every one names its session explicitly. */
async function tmux(args: readonly string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const result = await execa('tmux', args, { reject: false, stdin: 'ignore' });
  // A program that could not be started at all has no exit code.
  if (result.exitCode === undefined) throw new UsageError("tmux is not installed: apt-get install tmux (or your system's package)");
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}

export async function ensureTmux(): Promise<void> {
  await tmux(['-V']);
}

/** A tmux session name from a repo's name: tmux refuses '.' and ':' in them. */
function tmuxSessionName(repo: string): string {
  return repo.replace(/[.:]/g, '-');
}

/** The tmux option (a user option of the session) naming the dev root whose shells a session holds. */
const ROOT_OPTION = '@devkit-root';

/** The dev root a session was made for; null when there is no such session or it does not say. */
async function sessionRoot(session: string): Promise<string | null> {
  const result = await tmux(['show-options', '-t', `=${session}:`, '-v', '-q', ROOT_OPTION]);
  return result.exitCode === 0 && result.stdout !== '' ? result.stdout : null;
}

/**
 * The session tmux-shells uses for a dev root: named after the repo, unless a
 * session of that name holds another dev root's shells (a repo of the same
 * name under another root); then `fallback`, which names the root too.
 */
export async function sessionFor(root: string, names: { repo: string; fallback: string }): Promise<string> {
  const preferred = tmuxSessionName(names.repo);
  const owner = await sessionRoot(preferred);
  return owner === null || owner === root ? preferred : tmuxSessionName(names.fallback);
}

/** Records which dev root a session holds the shells of (sessionFor reads it). */
export async function markSession(session: string, root: string): Promise<void> {
  const result = await tmux(['set-option', '-t', `=${session}:`, ROOT_OPTION, root]);
  if (result.exitCode !== 0) throw new DevkitError(`tmux could not mark session ${session} as ${root}'s: ${result.stderr.trim()}`);
}

export async function windowsOf(session: string): Promise<string[] | null> {
  const result = await tmux(['list-windows', '-t', `=${session}`, '-F', '#{window_name}']);
  return result.exitCode === 0 ? result.stdout.split('\n').filter(Boolean) : null;
}

export interface WindowSpec {
  name: string;
  cwd: string;
  /** The command the window runs; the window closes when it exits. */
  command: readonly string[];
}

function quote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Opens the window, starting the session with it when there is none yet. */
export async function openWindow(session: string, window: WindowSpec, sessionExists: boolean): Promise<void> {
  const command = window.command.map(quote).join(' ');
  const args = sessionExists
    ? ['new-window', '-d', '-t', `=${session}:`, '-n', window.name, '-c', window.cwd, command]
    : ['new-session', '-d', '-s', session, '-n', window.name, '-c', window.cwd, '-x', '200', '-y', '50', command];
  const result = await tmux(args);
  if (result.exitCode !== 0)
    throw new DevkitError(`tmux could not open window ${window.name} in session ${session}: ${result.stderr.trim()}`);
}

/** Attaches the terminal to the session (or switches to it from inside tmux). */
export async function attach(session: string, env: NodeJS.ProcessEnv): Promise<number> {
  const args = env.TMUX ? ['switch-client', '-t', `=${session}`] : ['attach-session', '-t', `=${session}`];
  const child = await execa('tmux', args, { stdio: 'inherit', reject: false });
  return child.exitCode ?? 1;
}
