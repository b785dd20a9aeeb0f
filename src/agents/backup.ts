import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { git, gitMutate, gitResult } from '../git/git.js';
import { gitPath } from '../git/repo.js';
import type { AgentPaths } from './layout.js';

/** What removing an agent's copy would lose, if nothing saved it. */
export interface AtRisk {
  modified: number;
  untracked: number;
  /** Commits reachable from the copy's HEAD or the agent's branch that no other branch holds. */
  unmergedCommits: number;
}

export function isAtRisk(risk: AtRisk): boolean {
  return risk.modified + risk.untracked + risk.unmergedCommits > 0;
}

export function describeRisk(risk: AtRisk): string {
  const parts: string[] = [];
  if (risk.modified > 0) parts.push(`${risk.modified} modified file${risk.modified === 1 ? '' : 's'}`);
  if (risk.untracked > 0) parts.push(`${risk.untracked} untracked file${risk.untracked === 1 ? '' : 's'}`);
  if (risk.unmergedCommits > 0) parts.push(`${risk.unmergedCommits} commit${risk.unmergedCommits === 1 ? '' : 's'} on no other branch`);
  return parts.join(', ');
}

/**
 * Commits reachable from `tips` that no branch (local or remote-tracking)
 * holds, apart from the branches named in `ownBranches`.
 */
export async function unmergedCommitCount(cwd: string, tips: readonly string[], ownBranches: readonly string[]): Promise<number> {
  // Patterns given before --branches / --remotes match names without refs/heads/ or refs/remotes/.
  const excludes = ownBranches.map((branch) => `--exclude=${branch}`);
  const remoteExcludes = ownBranches.map((branch) => `--exclude=*/${branch}`);
  const out = await git(['rev-list', '--count', ...tips, '--not', ...excludes, '--branches', ...remoteExcludes, '--remotes', '--'], { cwd });
  return Number(out.trim());
}

export interface Backup {
  ref: string;
  commit: string;
  /** The command that brings the saved copy back, for the user. */
  restore: string;
}

const BACKUP_IDENTITY = {
  GIT_AUTHOR_NAME: 'devkit',
  GIT_AUTHOR_EMAIL: 'devkit@localhost',
  GIT_COMMITTER_NAME: 'devkit',
  GIT_COMMITTER_EMAIL: 'devkit@localhost',
};

function timestamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, ''); // 20261121T191200.123Z: a valid ref name component
}

/** A tree of the copy's files as they are on disk: tracked changes and untracked files, not ignored ones. */
async function snapshotTree(worktree: string): Promise<string> {
  const realIndex = await gitPath(worktree, 'index');
  const tempIndex = await gitPath(worktree, 'devkit-backup-index');
  // Starting from the real index keeps git's stat cache, so unchanged files are not re-hashed.
  if (existsSync(realIndex)) copyFileSync(realIndex, tempIndex);
  try {
    const env = { GIT_INDEX_FILE: tempIndex };
    // Ignored files (build output) are not saved, and info/exclude keeps HOMEs out. They hold keys, so
    // they are also dropped from the snapshot by name, in case someone edited info/exclude.
    await git(['add', '--all'], { cwd: worktree, env });
    await git(['rm', '-r', '--cached', '--quiet', '--ignore-unmatch', '--', '.devhome', ':(glob).devhome-agent*'], { cwd: worktree, env });
    return (await git(['write-tree'], { cwd: worktree, env })).trim();
  } finally {
    rmSync(tempIndex, { force: true });
  }
}

export interface BackupRequest {
  /** The primary clone: git runs there when the copy's folder is gone. */
  repoTop: string;
  agent: AgentPaths;
  /** The copy's HEAD commit as git last recorded it. */
  head: string | null;
  /** False when the copy's folder was deleted by hand: then only its commits can be saved. */
  copyExists: boolean;
  reason: string;
}

/**
 * Saves everything removing agent K's copy would lose under
 * refs/devkit/backup/agentK/<timestamp>: a commit whose tree is the copy's
 * files (untracked ones included) and whose parents are its HEAD, its staged
 * state when that differs, and the agent's branch when HEAD is elsewhere, so
 * every unmerged commit stays reachable from the ref.
 */
export async function backupAgentCopy(request: BackupRequest): Promise<Backup> {
  const { agent } = request;
  const cwd = request.copyExists ? agent.worktree : request.repoTop;
  const parents: string[] = [];
  let filesTree: string;
  if (request.copyExists) {
    const head = (await git(['rev-parse', 'HEAD'], { cwd })).trim();
    parents.push(head);
    const stagedTree = (await git(['write-tree'], { cwd })).trim();
    const headTree = (await git(['rev-parse', 'HEAD^{tree}'], { cwd })).trim();
    filesTree = await snapshotTree(cwd);
    if (stagedTree !== headTree && stagedTree !== filesTree) {
      const message = `devkit backup of ${agent.name}: staged changes`;
      parents.push((await git(['commit-tree', stagedTree, '-p', head, '-m', message], { cwd, env: BACKUP_IDENTITY })).trim());
    }
  } else {
    if (request.head !== null) parents.push(request.head);
    filesTree = (await git(['rev-parse', `${parents[0] ?? `refs/heads/${agent.branch}`}^{tree}`], { cwd })).trim();
  }
  if (agent.branch !== null) {
    const tip = await gitResult(['rev-parse', '-q', '--verify', `refs/heads/${agent.branch}`], { cwd });
    if (tip.exitCode === 0 && !parents.includes(tip.stdout.trim())) parents.push(tip.stdout.trim());
  }
  const message = `devkit backup of ${agent.name} (${agent.worktree}): ${request.reason}`;
  const commit = (
    await git(['commit-tree', filesTree, ...parents.flatMap((parent) => ['-p', parent]), '-m', message], { cwd, env: BACKUP_IDENTITY })
  ).trim();
  const ref = `refs/devkit/backup/${agent.name}/${timestamp(new Date())}`;
  // The empty old value makes update-ref refuse to overwrite an existing backup.
  await gitMutate(['update-ref', '-m', message, ref, commit, ''], { cwd });
  // Its files are the copy as it was; its parents hold HEAD and the agent's commits.
  return { ref, commit, restore: `git -C ${request.repoTop} worktree add ${agent.dir}-restored ${ref}` };
}
