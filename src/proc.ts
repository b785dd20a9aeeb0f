import { readdirSync, readFileSync } from 'node:fs';

/**
 * What /proc says about this machine's processes (containers' included: they
 * are processes of this kernel). The one place devkit reads /proc.
 */

/** Every live pid; null where there is no /proc (not Linux). */
export function listPids(): number[] | null {
  try {
    return readdirSync('/proc')
      .filter((name) => /^[0-9]+$/.test(name))
      .map(Number);
  } catch {
    return null;
  }
}

function readProc(pid: number, file: string): string | null {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return null; // exited meanwhile, or not ours to read
  }
}

/** The process's command name (at most 15 characters), or null when it is gone. */
export function processName(pid: number): string | null {
  return readProc(pid, 'comm')?.trim() ?? null;
}

/** The process's arguments, or null when it is gone. */
export function processArgs(pid: number): string[] | null {
  return (
    readProc(pid, 'cmdline')
      ?.split('\0')
      .filter((arg, i, all) => arg !== '' || i < all.length - 1) ?? null
  );
}

/** When the process started (clock ticks since boot, field 22 of stat): tells a reused pid from the one recorded. */
export function processStart(pid: number): string | null {
  const stat = readProc(pid, 'stat');
  return stat === null ? null : (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null);
}

/** True while the process runs (or cannot be told apart from one that does). */
export function processAlive(pid: number, start: string | null): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const now = processStart(pid);
  return start === null || now === null || now === start;
}

/** The parent of a process (field 4 of stat), or null when it is gone. */
function parentOf(pid: number): number | null {
  const stat = readProc(pid, 'stat');
  const ppid = stat === null ? undefined : stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
  return ppid === undefined ? null : Number(ppid);
}

/** Every process below `pid` (children, theirs, ...), deepest first; empty where there is no /proc. */
export function descendantsOf(pid: number): number[] {
  const parents = new Map((listPids() ?? []).map((p) => [p, parentOf(p)]));
  const below = (of: number): number[] => [...parents].filter(([, parent]) => parent === of).flatMap(([child]) => [...below(child), child]);
  return below(pid);
}
