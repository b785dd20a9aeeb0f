import { statSync } from 'node:fs';
import { listPids, processName } from '../proc.js';

/**
 * Which git processes on this machine work in which folders. A git lock file
 * (index.lock, config.lock, a ref lock) records no owner, so devkit calls one
 * stale only when no live git process has its working directory inside the
 * copy it belongs to. Processes in containers are seen too: /proc/PID/cwd
 * resolves in the process's own mount namespace, and a bind mount keeps the
 * host folder's device and inode.
 */
export interface GitProcessScan {
  /** Device:inode of every directory that some git process has as its cwd or above it. */
  busyDirs: Set<string>;
}

function key(path: string): string | null {
  try {
    const stat = statSync(path);
    return `${stat.dev}:${stat.ino}`;
  } catch {
    return null;
  }
}

/** null where there is no /proc (not Linux): then no lock can be proven stale. */
export function scanGitProcesses(): GitProcessScan | null {
  const pids = listPids();
  if (pids === null) return null;
  const busyDirs = new Set<string>();
  for (const pid of pids) {
    if (!(processName(pid) ?? '').startsWith('git')) continue;
    // Walk up from its cwd; a repeated key means we reached the top.
    let dir = `/proc/${pid}/cwd`;
    let previous: string | null = null;
    for (let depth = 0; depth < 64; depth++) {
      const current = key(dir);
      if (current === null || current === previous) break;
      busyDirs.add(current);
      previous = current;
      dir = `${dir}/..`;
    }
  }
  return { busyDirs };
}

/** True when some scanned git process works in `folder` or below it. */
export function gitWorksIn(scan: GitProcessScan, folder: string): boolean {
  const folderKey = key(folder);
  return folderKey !== null && scan.busyDirs.has(folderKey);
}
