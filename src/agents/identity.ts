import { lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { agentIndexHolding, agentName, agentPaths, primaryClone } from '../fleet/layout.js';
import type { GitBase } from '../git/git.js';
import { parseHead } from '../git/refs.js';
import { headState, openSharedRepo, shortBranch } from '../git/repo.js';
import { rootHolding, stateHome } from '../state/registry.js';

/**
 * Which agent's copy a folder is in, for status lines and for an agent forked
 * into a copy (`worktrees session`, `worktrees notice`). Works from inside any
 * copy without devkit.yml: the dev root comes from devkit's state (or, when it
 * has none, from the copy's alternates), and the copy's branch is read from its
 * HEAD file; git is only run in the primary clone.
 */
export interface CopyIdentity {
  /** `agentK`, or the folder name for a copy outside devkit's layout. */
  name: string;
  index: number | null;
  /** Top of the working copy. */
  path: string;
  branch: string | null;
  /** The primary clone, which every agent's copy borrows its objects from. */
  original_cwd: string | null;
  original_branch: string | null;
}

function isDir(file: string): boolean {
  try {
    return lstatSync(file).isDirectory();
  } catch {
    return false;
  }
}

/** The nearest folder at or above `start` holding a .git folder. */
function copyTop(start: string): string | null {
  let dir = path.resolve(start);
  for (;;) {
    if (isDir(path.join(dir, '.git'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

function readSmall(file: string): string | null {
  try {
    return lstatSync(file).isFile() ? readFileSync(file, 'utf8').slice(0, 4096) : null;
  } catch {
    return null;
  }
}

/** The dev root and repo of a copy: from devkit's state, else from where its objects are borrowed from. */
function layoutOf(top: string, env: NodeJS.ProcessEnv): { root: string; repo: string } | null {
  const known = rootHolding(stateHome(env), top);
  if (known !== null) return { root: known.root, repo: known.repo };
  const alternates = readSmall(path.join(top, '.git', 'objects', 'info', 'alternates'))?.trim();
  const shared = alternates === undefined ? null : /^(\/.+)\/\.git\/objects$/.exec(alternates)?.[1];
  const primary = shared ?? top; // no alternates: the copy is a primary clone itself
  return { root: path.dirname(primary), repo: path.basename(primary) };
}

function branchOf(top: string): string | null {
  const head = parseHead(readSmall(path.join(top, '.git', 'HEAD')) ?? '');
  return head?.kind === 'branch' ? shortBranch(head.ref) : null;
}

export async function copyIdentity(cwd: string, env: NodeJS.ProcessEnv, git: GitBase): Promise<CopyIdentity> {
  const top = copyTop(cwd);
  if (top === null) throw new UsageError(`${cwd} is not inside a git working copy`);
  const layout = layoutOf(top, env);
  const index = layout === null ? null : agentIndexHolding(layout, top);
  const inLayoutIndex = layout !== null && index !== null && agentPaths(layout, index).worktree === top ? index : null;
  const primary = layout === null || !isDir(path.join(primaryClone(layout), '.git')) ? null : primaryClone(layout);
  const originalBranch = primary === null ? null : (await headState(openSharedRepo(git, primary).git)).branch;
  return {
    name: inLayoutIndex !== null ? agentName(inLayoutIndex) : path.basename(top),
    index: inLayoutIndex,
    path: top,
    branch: branchOf(top),
    original_cwd: primary,
    original_branch: originalBranch === null ? null : shortBranch(originalBranch),
  };
}
