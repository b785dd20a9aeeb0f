import { DevkitError } from '../errors.js';
import type { Fleet } from '../fleet/fleet.js';
import { integration, type Integration } from '../git/integration.js';
import { branchUse, buildMerge, fastForward, listed, primaryDirt, untrackedInTheWay, type MergeHow, type MergeMode } from '../git/merge.js';
import { shortBranch } from '../git/repo.js';
import type { AgentTarget } from './base.js';
import { removeAgent, type RemoveResult } from './remove.js';
import { syncAgent } from './sync.js';
import { writerProfiles } from './writers.js';

/**
 * `devkit merge K`: agent K's branch into a branch of the shared repo. Agent
 * K is synced first, so its latest commits are what is merged; the merge is
 * built in the object store and reaches the target only when clean
 * (git/merge.ts), so a conflict leaves the primary clone and every ref as
 * they were. With `remove`, the agent goes afterwards only when its work is
 * provably in the target (git/integration.ts) and its copy holds nothing
 * else (removeAgent's own checks).
 */
export interface MergeResult {
  index: number;
  name: string;
  branch: string;
  /** The target branch (short name). */
  into: string;
  mode: MergeMode;
  how: MergeHow;
  /** The target's tip before and after. */
  from: string;
  to: string;
  /** The agent's commits that were not on the target. */
  commits: number;
  /** The agent branch's tip that was merged. */
  merged: string;
  /** True when the target is checked out in the primary clone (its work tree moved with it). */
  checkedOut: boolean;
}

async function refuseBusyTarget(fleet: Fleet, target: string): Promise<boolean> {
  const name = shortBranch(target);
  const use = await branchUse(fleet.shared, target);
  if (use.rebasing) throw new DevkitError(`${name} is being rebased in ${fleet.shared.top}: finish or abort that rebase, then merge again`);
  if (use.checkedOut !== null && use.checkedOut !== 'primary') {
    throw new DevkitError(`${name} is checked out in the worktree ${use.checkedOut}: switch it to another branch there, then merge again`);
  }
  if (use.checkedOut !== 'primary') return false;
  // git writes the primary clone's files on the host: never while a container can write them too (a folder swapped
  // for a link mid-checkout would send the agent's content wherever the link points).
  const writers = await writerProfiles(fleet, 1);
  if (writers.length > 0) {
    throw new DevkitError(
      `${name} is checked out in the primary clone, which ${writers.join(' and ')} can write while it runs: ` +
        `devkit writes no files there meanwhile; run ${writers.map((p) => `devkit -p ${p} down`).join(' and ')} first, ` +
        `or merge --into a branch the primary clone does not have checked out`,
    );
  }
  const dirt = await primaryDirt(fleet.shared);
  if (dirt !== null) {
    throw new DevkitError(
      `the primary clone ${fleet.shared.top} has ${name} checked out and ${dirt}: commit or stash that, then merge again`,
    );
  }
  return true;
}

/** Merges agent K's branch into its target. The caller holds the fleet lock and checked the request (agentTarget). */
export async function mergeAgent(fleet: Fleet, agent: AgentTarget, mode: MergeMode): Promise<MergeResult> {
  const synced = await syncAgent(fleet, agent.index);
  if (synced.state !== 'ok') {
    const why = synced.problems.length > 0 ? ` (${synced.problems.join('; ')})` : '';
    throw new DevkitError(
      `agent ${agent.index}'s copy is ${synced.state}${why}: devkit cannot bring in its latest commits; devkit doctor says what to do`,
    );
  }
  const source = `refs/heads/${agent.branch}`;
  const into = shortBranch(agent.target);
  const checkedOut = await refuseBusyTarget(fleet, agent.target);
  const build = await buildMerge(fleet.shared.git, { source, target: agent.target, mode });
  if (build.to !== build.from) {
    if (checkedOut) {
      const inTheWay = await untrackedInTheWay(fleet.shared, build.from, build.to);
      if (inTheWay.length > 0) {
        throw new DevkitError(
          `the merge would write over untracked files in the primary clone ${fleet.shared.top}: ${listed(inTheWay)}; ` +
            'move them away, then merge again',
        );
      }
    }
    await fastForward(fleet.shared, {
      target: agent.target,
      from: build.from,
      to: build.to,
      checkedOut,
      reason: `devkit merge ${agent.index}`,
    });
  }
  const merged = (await fleet.shared.git.run(['rev-parse', '--verify', source])).trim();
  return {
    index: agent.index,
    name: synced.name,
    branch: agent.branch,
    into,
    mode,
    how: build.how,
    from: build.from,
    to: build.to,
    commits: build.commits.length,
    merged,
    checkedOut,
  };
}

export type Removal = { removed: true; proof: Exclude<Integration, null>; result: RemoveResult } | { removed: false; reason: string };

/**
 * `merge --remove`: removes agent K (copy and branch) when the merged tip's
 * work is provably in the target; otherwise, or when removeAgent refuses
 * (work in the copy, a container running), keeps everything and says why.
 */
export async function removeMerged(fleet: Fleet, merge: MergeResult): Promise<Removal> {
  const proof = await integration(fleet.shared.git, merge.merged, `refs/heads/${merge.into}`);
  if (proof === null) {
    return { removed: false, reason: `devkit cannot prove that every change of ${merge.branch} is in ${merge.into}` };
  }
  try {
    const result = await removeAgent(fleet, { index: merge.index, force: false, deleteBranch: true, provenMerged: merge.merged });
    return { removed: true, proof, result };
  } catch (error) {
    // Its own words, naming the command they are about (they may suggest its --force).
    if (error instanceof DevkitError) return { removed: false, reason: `devkit worktrees remove ${merge.index} refused: ${error.message}` };
    throw error;
  }
}
