import { existsSync } from 'node:fs';
import { DevkitError, UsageError } from '../errors.js';
import { git, gitMutate, retryOnGitLock } from '../git/git.js';
import { branchRef, configGet, headState, refExists, resolveCommit, shortBranch } from '../git/repo.js';
import { listWorktrees, type WorktreeEntry } from '../git/worktrees.js';
import { resolveExisting } from '../validate.js';
import { ensureDevhome, ensureDevhomeExcluded } from './devhome.js';
import type { DevRoot } from './devroot.js';
import { agentPaths, lockReason, type AgentPaths } from './layout.js';

/** Where new agent branches start. */
export interface BaseRef {
  /** What to hand to git: a branch name when the base is a branch, else a commit id. */
  startPoint: string;
  /** True when the base is a branch, which then becomes the agent branch's upstream. */
  track: boolean;
  /** For messages. */
  label: string;
}

/** `--base REF`, or the primary clone's current branch (or commit, when detached). */
export async function resolveBase(devRoot: DevRoot, requested: string | undefined): Promise<BaseRef> {
  const cwd = devRoot.repo.top;
  if (requested === undefined) {
    const head = await headState(cwd);
    if (head.commit === null) {
      throw new UsageError(`${cwd} has no commits yet: commit something first, agents' branches start from it`);
    }
    if (head.branch === null) return { startPoint: head.commit, track: false, label: head.commit.slice(0, 12) };
    return { startPoint: shortBranch(head.branch), track: true, label: shortBranch(head.branch) };
  }
  if (requested.startsWith('-') || requested.includes('\0')) throw new UsageError(`--base ${JSON.stringify(requested)} is not a ref`);
  const commit = await resolveCommit(cwd, requested);
  if (commit === null) throw new UsageError(`--base ${requested}: no such commit, branch or tag in ${cwd}`);
  const branch = await branchRef(cwd, requested);
  return branch === null
    ? { startPoint: commit, track: false, label: requested }
    : { startPoint: branch.replace(/^refs\/(heads|remotes)\//, ''), track: true, label: requested };
}

export type AgentAction = 'created' | 'present' | 'relocked' | 'devhome-created';

export interface ProvisionedAgent {
  index: number;
  name: string;
  worktree: string;
  devhome: string;
  branch: string | null;
  action: AgentAction;
}

export interface ProvisionResult {
  agents: ProvisionedAgent[];
  /** True when anything on disk or in the repo changed. */
  changed: boolean;
}

function registeredAt(entries: readonly WorktreeEntry[], worktree: string): WorktreeEntry | undefined {
  const wanted = resolveExisting(worktree);
  return entries.find((entry) => resolveExisting(entry.path) === wanted);
}

/** Refuses, before anything changes, every agent that cannot be made as asked. */
function checkCanProvision(entries: readonly WorktreeEntry[], agents: readonly AgentPaths[]): void {
  for (const agent of agents) {
    if (agent.branch === null || registeredAt(entries, agent.worktree) !== undefined) continue;
    if (existsSync(agent.worktree)) {
      throw new DevkitError(
        `${agent.worktree} exists but is not a worktree of this repo: move it away (it may hold work), or see devkit worktrees prune`,
      );
    }
    const holder = entries.find((entry) => entry.branch === `refs/heads/${agent.branch}`);
    if (holder !== undefined) {
      throw new DevkitError(`branch ${agent.branch} is checked out in ${holder.path}: switch that copy to another branch first`);
    }
  }
}

/** Makes agent K's worktree (K >= 2), locked, on its branch; reuses the branch if it survived an earlier remove. */
async function addWorktree(devRoot: DevRoot, agent: AgentPaths & { branch: string }, base: BaseRef): Promise<void> {
  const cwd = devRoot.repo.top;
  const lock = ['worktree', 'add', '--quiet', '--lock', '--reason', lockReason(agent.index)];
  // Re-read on every try: a lock failure may come after git created the branch.
  await retryOnGitLock(async () => {
    const entries = await listWorktrees(cwd);
    if (registeredAt(entries, agent.worktree) !== undefined) return;
    if (await refExists(cwd, `refs/heads/${agent.branch}`)) {
      await git([...lock, '--end-of-options', agent.worktree, agent.branch], { cwd });
    } else {
      const track = base.track ? '--track' : '--no-track';
      await git([...lock, track, '-b', agent.branch, '--end-of-options', agent.worktree, base.startPoint], { cwd });
    }
  });
}

/**
 * `worktrees init N`: afterwards agents 1..N exist. Idempotent: what exists is
 * kept as it is (an unlocked agent worktree is locked again), only what is
 * missing is made. The caller holds the repo lock.
 */
export async function provisionAgents(devRoot: DevRoot, count: number, base: BaseRef): Promise<ProvisionResult> {
  return provisionIndexes(devRoot, Array.from({ length: count }, (_, i) => i + 1), base);
}

/** Makes exactly the agents named (a team's members), as provisionAgents does for 1..N. The caller holds the repo lock. */
export async function provisionIndexes(devRoot: DevRoot, indexes: readonly number[], base: BaseRef): Promise<ProvisionResult> {
  const cwd = devRoot.repo.top;
  const agents = indexes.map((index) => agentPaths(devRoot.config, index));
  const entries = await listWorktrees(cwd);
  checkCanProvision(entries, agents);

  let changed = false;
  if ((await configGet(cwd, 'gc.auto')) !== '0') {
    // gc run by an agent could prune what another agent still needs; devkit runs gc only when asked.
    await gitMutate(['config', 'gc.auto', '0'], { cwd });
    changed = true;
  }
  changed = ensureDevhomeExcluded(devRoot.repo.commonDir) || changed;

  const results: ProvisionedAgent[] = [];
  for (const agent of agents) {
    let action: AgentAction = 'present';
    if (agent.branch !== null) {
      const entry = registeredAt(entries, agent.worktree);
      if (entry === undefined) {
        await addWorktree(devRoot, { ...agent, branch: agent.branch }, base);
        action = 'created';
      } else if (!entry.locked) {
        await gitMutate(['worktree', 'lock', '--reason', lockReason(agent.index), '--end-of-options', agent.worktree], { cwd });
        action = 'relocked';
      }
    }
    if (ensureDevhome(agent.devhome) && action === 'present') action = 'devhome-created';
    changed ||= action !== 'present';
    results.push({ index: agent.index, name: agent.name, worktree: agent.worktree, devhome: agent.devhome, branch: agent.branch, action });
  }
  return { agents: results, changed };
}
