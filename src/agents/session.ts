import path from 'node:path';
import { UsageError } from '../errors.js';
import { headState, shortBranch, workingCopyOf } from '../git/repo.js';
import { agentIndexOfWorktree, agentName } from './layout.js';

/** Where a working copy sits in the dev root layout, derived from git alone (no devkit.yml needed). */
export interface SessionInfo {
  /** `agentK`, or the folder name for a copy outside devkit's layout. */
  name: string;
  index: number | null;
  /** Top of the working copy. */
  path: string;
  branch: string | null;
  /** The primary clone, which every agent's copy was forked from. */
  original_cwd: string | null;
  original_branch: string | null;
}

/** The copy holding `cwd`, and the primary clone that shares its object store (null for a bare common dir). */
export async function locateCopy(cwd: string): Promise<{ top: string; primary: string | null }> {
  const copy = await workingCopyOf(cwd);
  if (copy === null) throw new UsageError(`${cwd} is not inside a git working copy`);
  return { top: copy.top, primary: path.basename(copy.commonDir) === '.git' ? path.dirname(copy.commonDir) : null };
}

async function branchOf(cwd: string): Promise<string | null> {
  const { branch } = await headState(cwd);
  return branch === null ? null : shortBranch(branch);
}

export async function sessionInfo(cwd: string): Promise<SessionInfo> {
  const { top, primary } = await locateCopy(cwd);
  // The dev root layout is <root>/<repo> for the primary clone and <root>/agentK/<repo> for the others.
  const index = primary === null ? null : agentIndexOfWorktree({ root: path.dirname(primary), repo: path.basename(primary) }, top);
  const [branch, originalBranch] = await Promise.all([branchOf(top), primary === null ? null : branchOf(primary)]);
  return {
    name: index === null ? path.basename(top) : agentName(index),
    index,
    path: top,
    branch,
    original_cwd: primary,
    original_branch: originalBranch,
  };
}
