import { oneLine } from '../errors.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentNamespace } from '../fleet/layout.js';
import { commitsOnlyOn, refsUnder } from '../git/repo.js';

export interface BranchesLeft {
  /** Branches deleted: each held no commit that another branch (or a remote's) does not hold too. */
  deleted: string[];
  /** Branches kept, with the commits only they hold (or why they could not go). */
  kept: Array<{ branch: string; reason: string }>;
}

/**
 * Deletes agent K's branches in the shared repo (`agentK/*`) that are merged
 * or empty: whose commits are all on another branch. One at a time, counting
 * again for each, so two branches holding the same commits keep one of them.
 * A branch with commits of its own is kept: never lose work. The caller holds
 * the fleet lock and synced the agent first.
 */
export async function deleteMergedBranches(fleet: Fleet, index: number): Promise<BranchesLeft> {
  const git = fleet.shared.git;
  const left: BranchesLeft = { deleted: [], kept: [] };
  for (const ref of (await refsUnder(git, agentNamespace(index))).keys()) {
    const branch = ref.slice('refs/heads/'.length);
    const own = await commitsOnlyOn(git, branch);
    if (own > 0) {
      left.kept.push({ branch, reason: `${own} commit${own === 1 ? '' : 's'} on no other branch` });
      continue;
    }
    try {
      await git.mutate(['branch', '-D', '--end-of-options', branch]);
      left.deleted.push(branch);
    } catch (error) {
      // Checked out in the primary clone, say: git says why, and the branch stays.
      left.kept.push({ branch, reason: oneLine(error instanceof Error ? error.message : String(error)) });
    }
  }
  return left;
}
