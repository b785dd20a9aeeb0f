import { UsageError } from '../errors.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentBranch, parseAgentName } from '../fleet/layout.js';
import { requireAgent } from '../fleet/records.js';
import { isValidRefName } from '../git/refs.js';
import { configGet, headState, refExists, shortBranch } from '../git/repo.js';

/**
 * Agent K as `merge` and `log` take it: one devkit made (K >= 2), and the
 * branch of the shared repo its work goes into. Checked before anything
 * changes: bad input is refused with nothing done.
 */
export interface AgentTarget {
  index: number;
  /** `agentK/main`. */
  branch: string;
  /** The target branch, full ref (`refs/heads/main`). */
  target: string;
}

/**
 * The agent's base: its branch's upstream when that is a branch of the shared
 * repo (worktrees init records it), else the primary clone's current branch.
 */
async function baseOf(fleet: Fleet, branch: string): Promise<string> {
  const git = fleet.shared.git;
  const [remote, merge] = await Promise.all([configGet(git, `branch.${branch}.remote`), configGet(git, `branch.${branch}.merge`)]);
  if (remote === '.' && merge?.startsWith('refs/heads/') === true && (await refExists(git, merge))) return merge;
  const head = await headState(git);
  if (head.branch === null) {
    throw new UsageError(`${branch} has no base branch and the primary clone's HEAD is detached: name the branch with --into BRANCH`);
  }
  return head.branch;
}

/** `--into BRANCH`: a branch of the shared repo, not an agent's own (a sync would move that back to the agent's copy). */
async function checkInto(fleet: Fleet, into: string): Promise<string> {
  const name = into.replace(/^refs\/heads\//, '');
  const ref = `refs/heads/${name}`;
  if (name.startsWith('-') || !isValidRefName(ref)) throw new UsageError(`--into ${JSON.stringify(into)} is not a branch name`);
  if (!(await refExists(fleet.shared.git, ref))) throw new UsageError(`--into ${name}: there is no branch ${name} in ${fleet.shared.top}`);
  return ref;
}

function refuseAgentTarget(target: string): void {
  const owner = parseAgentName(shortBranch(target).split('/')[0] ?? '');
  if (owner !== null && owner >= 2) {
    throw new UsageError(
      `${shortBranch(target)} is agent ${owner}'s branch: devkit sync moves it to match agent ${owner}'s copy; ` +
        'merge into another branch',
    );
  }
}

export async function agentTarget(fleet: Fleet, index: number, into?: string): Promise<AgentTarget> {
  if (index === 1) throw new UsageError("agent 1 is the primary clone: its work is already on the shared repo's branches");
  requireAgent(fleet.state, index);
  const branch = agentBranch(index);
  const target = into === undefined ? await baseOf(fleet, branch) : await checkInto(fleet, into);
  refuseAgentTarget(target);
  return { index, branch, target };
}
