import type { Git } from './git.js';
import { lines } from './git.js';
import { isAncestor, mergeBase } from './merge.js';

/**
 * Whether a branch's work is provably in a target, so the branch can go
 * without losing anything: every commit of it reachable from the target, or,
 * for squash and rebase merges (new commits with the same changes), the same
 * changes found on the target by `git patch-id --stable`: the branch's whole
 * diff against the merge base as one commit of the target, or each of its
 * commits' diffs among the target's. Anything else is not proof.
 */
export type Integration = 'ancestor' | 'squashed' | 'each commit' | null;

/** The target commits a patch-id check reads at most; beyond that it says "not proven" (the safe side). */
const PATCH_ID_SCAN_MAX = 500;

/** patch-id of each given commit's diff against its first parent (plumbing diffs, so the user's diff settings do not count). */
async function commitPatchIds(git: Git, commits: readonly string[]): Promise<Set<string>> {
  if (commits.length === 0) return new Set();
  const diffs = await git.run(['diff-tree', '--stdin', '-p', '--no-color', '--no-ext-diff'], { input: `${commits.join('\n')}\n` });
  return patchIds(git, diffs);
}

async function patchIds(git: Git, diffs: string): Promise<Set<string>> {
  const out = await git.run(['patch-id', '--stable'], { input: diffs });
  return new Set(lines(out).map((line) => line.split(' ')[0] ?? ''));
}

export async function integration(git: Git, branchTip: string, target: string): Promise<Integration> {
  if (await isAncestor(git, branchTip, target)) return 'ancestor';
  const base = await mergeBase(git, branchTip, target);
  if (base === null) return null;
  const onTarget = lines(await git.run(['rev-list', '--no-merges', `--max-count=${PATCH_ID_SCAN_MAX + 1}`, `${base}..${target}`]));
  if (onTarget.length > PATCH_ID_SCAN_MAX) return null;
  const targetIds = await commitPatchIds(git, onTarget);
  // The whole branch as one diff: a squash merge's commit has this patch-id.
  const whole = await git.run(['diff-tree', '-p', '--no-color', '--no-ext-diff', base, branchTip]);
  const [wholeId] = await patchIds(git, `${base}\n${whole}`);
  if (wholeId !== undefined && targetIds.has(wholeId)) return 'squashed';
  const own = lines(await git.run(['rev-list', '--no-merges', `${base}..${branchTip}`]));
  const ownIds = await commitPatchIds(git, own);
  // A commit with no change has no patch-id and holds nothing to lose; a merge
  // commit's own resolution could hold work, so merges are not proven this way.
  const merges = lines(await git.run(['rev-list', '--merges', `${base}..${branchTip}`]));
  return merges.length === 0 && [...ownIds].every((id) => targetIds.has(id)) ? 'each commit' : null;
}
