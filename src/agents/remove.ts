import { rmSync } from 'node:fs';
import path from 'node:path';
import { DevkitError, UsageError } from '../errors.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentPaths } from '../fleet/layout.js';
import { deleteAgentRecord, readAgentRecords, requireAgent } from '../fleet/records.js';
import { openSafeDir, removeTreeIn } from '../fs/safe.js';
import { commitsOnlyOn, refExists, resolveCommit } from '../git/repo.js';
import { assessRisk, backupCopy, describeRisk, isAtRisk, type AtRisk, type CopyBackup } from './backup.js';
import { readCopy } from './copy.js';
import { homeExists } from './devhome.js';
import { quarantineObjects } from './copy-git.js';
import { syncAgent } from './sync.js';
import { debugSwallow } from '../debug.js';
import { writerProfiles } from './writers.js';
import { agentEngine, type AgentEngine } from '../fleet/engines.js';
import { checkRemoteRemoval } from './remote-remove.js';

export interface RemoveRequest {
  index: number;
  force: boolean;
  deleteBranch: boolean;
  /**
   * The branch tip whose work the caller proved to be in another branch
   * (`merge --remove`: by ancestry or by patch-id after a squash or rebase,
   * which commitsOnlyOn does not see). The branch is deleted without the
   * commitsOnlyOn check only while it still points there.
   */
  provenMerged?: string;
}

export interface RemoveResult {
  index: number;
  name: string;
  worktree: string;
  /** What the copy held that exists nowhere else (saved in `backup` when there was any). */
  atRisk: AtRisk;
  backup: CopyBackup | null;
  branch: string;
  branchDeleted: boolean;
  /** The agent's HOME is kept: it holds keys and CLI logins, and is reused if agent K is made again. */
  devhomeKept: string | null;
}

/**
 * Refuses while a container that can write agent K's copy runs (its own, or
 * this root's dev-all): it could write after the backup and before the
 * removal, or swap a folder for a link mid-way. An engine that does not answer
 * cannot tell, so it refuses too.
 */
export async function refuseWhileWritable(fleet: Fleet, index: number): Promise<void> {
  const profiles = await writerProfiles(fleet, index);
  if (profiles.length > 0) {
    throw new DevkitError(
      `${profiles.join(' and ')} ${profiles.length === 1 ? 'runs' : 'run'} and could still write agent ${index}'s copy: ` +
        `run ${profiles.map((p) => `devkit -p ${p} down`).join(' and ')} first`,
    );
  }
}

/** True when `branch` still points at the tip the caller proved merged (the sync before removal may have moved it). */
async function provenAt(fleet: Fleet, branch: string, proven: string | undefined): Promise<boolean> {
  return proven !== undefined && (await resolveCommit(fleet.shared.git, `refs/heads/${branch}`)) === proven;
}

/**
 * `worktrees remove K`. Refuses, changing nothing, when the copy holds work
 * that exists nowhere else, unless `force`; with `force` that work is first
 * saved to devkit's backups. Only a copy devkit's records say it made, at the
 * agent's own path, is deleted, never following a link. The caller holds the
 * fleet lock.
 */
export async function removeAgent(fleet: Fleet, request: RemoveRequest): Promise<RemoveResult> {
  const agent = agentPaths(fleet.config, request.index);
  if (agent.branch === null) throw new UsageError('agent 1 is the primary clone; devkit never removes it');
  const branch = agent.branch;
  if (!readAgentRecords(fleet.state).has(request.index)) {
    if (readCopy(fleet.config, fleet.shared.gitDir, request.index).state !== 'missing') {
      throw new DevkitError(
        `${agent.worktree} is not an agent copy devkit made; devkit will not delete it (it may hold work): move it away by hand`,
      );
    }
    requireAgent(fleet.state, request.index);
  }
  const engine = agentEngine(fleet, request.index);
  if (engine.remote) return removeRemoteAgent(fleet, request, engine);
  await refuseWhileWritable(fleet, request.index);
  // Bring its branches in first: then only what is on no shared branch counts as at risk.
  await syncAgent(fleet, request.index).catch(debugSwallow(`sync of agent ${request.index} before removing it`));
  const facts = readCopy(fleet.config, fleet.shared.gitDir, request.index);
  const atRisk = await assessRisk(fleet, facts);
  if (isAtRisk(atRisk) && !request.force) {
    throw new DevkitError(
      `agent ${request.index} holds ${describeRisk(atRisk)}: commit them and merge or push the branch, ` +
        "or pass --force to save them to devkit's backups and remove",
    );
  }
  const branchExists = await checkBranchDeletion(fleet, request, branch);
  const backup = isAtRisk(atRisk) ? await backupCopy(fleet, request.index, `worktrees remove ${request.index} --force`) : null;
  const dir = openSafeDir(fleet.config.root, agent.rel.dir);
  if (dir !== null) {
    try {
      removeTreeIn(dir, path.basename(agent.worktree));
    } finally {
      dir.close();
    }
  }
  rmSync(path.dirname(quarantineObjects(fleet, request.index)), { recursive: true, force: true });
  await forgetAgent(fleet, request, { branch, branchExists });
  return {
    index: request.index,
    name: agent.name,
    worktree: agent.worktree,
    atRisk,
    backup,
    branch,
    branchDeleted: request.deleteBranch && branchExists,
    devhomeKept: homeExists(fleet, request.index) ? agent.devhome : null,
  };
}

/** Whether agent K's branch exists; refuses --delete-branch while it holds commits on no other branch (and not proven merged). */
async function checkBranchDeletion(fleet: Fleet, request: RemoveRequest, branch: string): Promise<boolean> {
  const branchExists = await refExists(fleet.shared.git, `refs/heads/${branch}`);
  if (
    request.deleteBranch &&
    branchExists &&
    !(await provenAt(fleet, branch, request.provenMerged)) &&
    (await commitsOnlyOn(fleet.shared.git, branch)) > 0
  ) {
    throw new DevkitError(`${branch} has commits on no other branch; merge it first, or leave out --delete-branch to keep it`);
  }
  return branchExists;
}

/** The last step of a removal: the branch when asked, and devkit's record of the agent. */
async function forgetAgent(fleet: Fleet, request: RemoveRequest, found: { branch: string; branchExists: boolean }): Promise<void> {
  if (request.deleteBranch && found.branchExists) await fleet.shared.git.mutate(['branch', '-D', '--end-of-options', found.branch]);
  deleteAgentRecord(fleet.state, request.index);
}

/** removeAgent for an agent whose copy is a volume on a remote engine (remote-remove.ts): synced first, refused when it cannot be. */
async function removeRemoteAgent(fleet: Fleet, request: RemoveRequest, engine: AgentEngine): Promise<RemoveResult> {
  const agent = agentPaths(fleet.config, request.index);
  const branch = agent.branch ?? '';
  const checked = await checkRemoteRemoval(fleet, request.index, { engine, force: request.force });
  const branchExists = await checkBranchDeletion(fleet, request, branch);
  const removed = await checked.remove();
  await forgetAgent(fleet, request, { branch, branchExists });
  return {
    index: request.index,
    name: agent.name,
    worktree: removed.copy,
    atRisk: { modified: removed.dirty ? 1 : 0, untracked: 0, ignored: 0, nestedRepos: 0, unmergedCommits: 0, stashes: 0, tampered: false },
    backup: removed.backup,
    branch,
    branchDeleted: request.deleteBranch && branchExists,
    devhomeKept: removed.home,
  };
}
