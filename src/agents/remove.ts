import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DevkitError, UsageError } from '../errors.js';
import { EngineApi, engineSocket, type ContainerSummary } from '../docker/engine-api.js';
import { gitMutate, gitResult } from '../git/git.js';
import { dirtyCounts, listWorktrees, type WorktreeEntry } from '../git/worktrees.js';
import { resolveExisting } from '../validate.js';
import { backupAgentCopy, describeRisk, isAtRisk, unmergedCommitCount, type AtRisk, type Backup } from './backup.js';
import type { DevRoot } from './devroot.js';
import { agentIndexesOf, agentPaths, type AgentPaths } from './layout.js';

export interface RemoveRequest {
  index: number;
  force: boolean;
  deleteBranch: boolean;
}

export interface RemoveResult {
  index: number;
  name: string;
  worktree: string;
  /** What the copy held that exists nowhere else (saved in `backup` when there was any). */
  atRisk: AtRisk;
  backup: Backup | null;
  branch: string;
  branchDeleted: boolean;
  /** The agent's HOME is kept: it holds keys and CLI logins, and is reused if agent K is made again. */
  devhomeKept: string | null;
}

/** The admin folder (`.git/worktrees/<id>`) of a registered worktree, found by its gitdir back-link. */
function adminDirOf(commonDir: string, worktree: string): string | null {
  const base = path.join(commonDir, 'worktrees');
  const wanted = path.join(worktree, '.git');
  for (const id of existsSync(base) ? readdirSync(base) : []) {
    try {
      if (readFileSync(path.join(base, id, 'gitdir'), 'utf8').trim() === wanted) return path.join(base, id);
    } catch {
      // not a worktree admin folder
    }
  }
  return null;
}

async function assessRisk(devRoot: DevRoot, agent: AgentPaths & { branch: string }, entry: WorktreeEntry): Promise<AtRisk> {
  const cwd = devRoot.repo.top;
  const tips = [entry.head, `refs/heads/${agent.branch}`].filter((tip): tip is string => tip !== null);
  const existingTips = [];
  for (const tip of tips) if ((await gitResult(['rev-parse', '-q', '--verify', tip], { cwd })).exitCode === 0) existingTips.push(tip);
  const own = [agent.branch, ...(entry.branch === null ? [] : [entry.branch.replace(/^refs\/heads\//, '')])];
  const unmergedCommits = existingTips.length === 0 ? 0 : await unmergedCommitCount(cwd, existingTips, own);
  const dirty = existsSync(agent.worktree) ? await dirtyCounts(agent.worktree) : { modified: 0, untracked: 0 };
  return { ...dirty, unmergedCommits };
}

/**
 * An agent whose own container runs could write to its copy after the backup
 * and before the removal: refuse, whatever the flags. With no engine reachable
 * there is no container to worry about.
 */
async function refuseWhileContainerRuns(devRoot: DevRoot, agentName: string): Promise<void> {
  let running: ContainerSummary[];
  try {
    running = (await new EngineApi(engineSocket(process.env)).listContainers([`devkit.root=${devRoot.config.root}`, `devkit.agent=${agentName}`])).filter(
      (container) => container.State === 'running',
    );
  } catch {
    return;
  }
  if (running.length > 0) {
    throw new DevkitError(`${agentName}'s container is running and could still write to its copy: stop it first with devkit -p ${agentName} down`);
  }
}

/**
 * `worktrees remove K`. Refuses, changing nothing, when the copy holds work
 * that exists nowhere else, unless `force`; with `force` that work is first
 * saved to a backup ref. Only a folder git lists as this repo's worktree is
 * ever deleted, and only by git. The caller holds the repo lock.
 */
export async function removeAgent(devRoot: DevRoot, request: RemoveRequest): Promise<RemoveResult> {
  const cwd = devRoot.repo.top;
  const agent = agentPaths(devRoot.config, request.index);
  if (agent.branch === null) throw new UsageError('agent 1 is the primary clone; devkit never removes it');
  const branch = agent.branch;
  const entries = await listWorktrees(cwd);
  const entry = entries.find((candidate) => resolveExisting(candidate.path) === resolveExisting(agent.worktree));
  if (entry === undefined) {
    if (existsSync(agent.worktree)) {
      throw new DevkitError(
        `${agent.worktree} is not a registered worktree of ${cwd}; devkit will not delete it (it may hold work): move it away by hand`,
      );
    }
    const known = agentIndexesOf(devRoot.config, entries);
    throw new UsageError(`no agent ${request.index} in ${devRoot.config.root} (agents: ${known.join(', ')})`);
  }

  await refuseWhileContainerRuns(devRoot, agent.name);
  const atRisk = await assessRisk(devRoot, { ...agent, branch }, entry);
  if (isAtRisk(atRisk) && !request.force) {
    throw new DevkitError(
      `agent ${request.index} holds ${describeRisk(atRisk)}: commit them and merge or push the branch, or pass --force to save them under refs/devkit/backup/${agent.name}/ and remove`,
    );
  }
  const branchExists = (await gitResult(['show-ref', '-q', '--verify', `refs/heads/${branch}`], { cwd })).exitCode === 0;
  if (request.deleteBranch && branchExists && (await unmergedCommitCount(cwd, [`refs/heads/${branch}`], [branch])) > 0) {
    throw new DevkitError(`${branch} has commits on no other branch; merge it first, or leave out --delete-branch to keep it`);
  }

  const copyExists = existsSync(agent.worktree);
  const backup = isAtRisk(atRisk)
    ? await backupAgentCopy({ repoTop: cwd, agent, head: entry.head, copyExists, reason: `worktrees remove ${request.index} --force` })
    : null;
  if (entry.locked) await gitMutate(['worktree', 'unlock', '--end-of-options', agent.worktree], { cwd });
  if (copyExists) {
    // --force: its changes are saved above (or there were none); git still deletes only its own worktree.
    await gitMutate(['worktree', 'remove', '--force', '--end-of-options', agent.worktree], { cwd });
  } else {
    // The folder is already gone: drop just this worktree's admin entry, which git has proven is ours.
    const admin = adminDirOf(devRoot.repo.commonDir, agent.worktree);
    if (admin !== null) rmSync(admin, { recursive: true, force: true });
  }
  if (request.deleteBranch && branchExists) await gitMutate(['branch', '-D', '--end-of-options', branch], { cwd });
  return {
    index: request.index,
    name: agent.name,
    worktree: agent.worktree,
    atRisk,
    backup,
    branch,
    branchDeleted: request.deleteBranch && branchExists,
    devhomeKept: existsSync(agent.devhome) ? agent.devhome : null,
  };
}
