import { git } from './git.js';

/** One entry of `git worktree list --porcelain`. */
export interface WorktreeEntry {
  path: string;
  head: string | null;
  /** Full ref of the checked-out branch; null when detached or bare. */
  branch: string | null;
  bare: boolean;
  locked: boolean;
  lockReason: string | null;
  /** git's reason when the worktree's folder is gone, else null. */
  prunableReason: string | null;
}

/** Parses `git worktree list --porcelain -z` (records end with an empty field). */
export function parseWorktreeList(text: string): WorktreeEntry[] {
  const entries: WorktreeEntry[] = [];
  let current: WorktreeEntry | null = null;
  for (const field of text.split('\0')) {
    if (field === '') {
      if (current !== null) entries.push(current);
      current = null;
      continue;
    }
    const space = field.indexOf(' ');
    const key = space === -1 ? field : field.slice(0, space);
    const value = space === -1 ? null : field.slice(space + 1);
    if (key === 'worktree') {
      current = { path: value ?? '', head: null, branch: null, bare: false, locked: false, lockReason: null, prunableReason: null };
      continue;
    }
    if (current === null) continue;
    if (key === 'HEAD') current.head = value;
    else if (key === 'branch') current.branch = value;
    else if (key === 'bare') current.bare = true;
    else if (key === 'locked') {
      current.locked = true;
      current.lockReason = value;
    } else if (key === 'prunable') current.prunableReason = value ?? '';
  }
  if (current !== null) entries.push(current);
  return entries;
}

export async function listWorktrees(cwd: string): Promise<WorktreeEntry[]> {
  return parseWorktreeList(await git(['worktree', 'list', '--porcelain', '-z'], { cwd }));
}

export interface DirtyCounts {
  /** Tracked files with staged or unstaged changes (conflicts included). */
  modified: number;
  /** Untracked files, not counting ignored ones. */
  untracked: number;
}

/** Parses `git status --porcelain=v1 -z`. */
export function parseStatus(text: string): DirtyCounts {
  const counts: DirtyCounts = { modified: 0, untracked: 0 };
  const fields = text.split('\0');
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] ?? '';
    if (field.length < 3) continue;
    const code = field.slice(0, 2);
    if (code === '??') counts.untracked++;
    else if (code !== '!!') counts.modified++;
    // A rename or copy is followed by a field holding the original path.
    if (code[0] === 'R' || code[0] === 'C') i++;
  }
  return counts;
}

export async function dirtyCounts(worktree: string): Promise<DirtyCounts> {
  // --no-optional-locks: inspecting a copy never rewrites its index or waits on an agent's index.lock.
  return parseStatus(await git(['--no-optional-locks', 'status', '--porcelain=v1', '-z', '--untracked-files=all'], { cwd: worktree }));
}
