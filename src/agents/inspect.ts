import { existsSync, readdirSync } from 'node:fs';
import { gitResult } from '../git/git.js';
import { dirtyCounts, listWorktrees, type DirtyCounts, type WorktreeEntry } from '../git/worktrees.js';
import { resolveExisting } from '../validate.js';
import type { DevRoot } from './devroot.js';
import { agentIndexOfFolder, agentIndexOfWorktree, agentPaths } from './layout.js';

/** One row of `worktrees list`. */
export interface AgentStatus {
  index: number;
  name: string;
  path: string;
  devhome: string;
  /** The branch checked out in the agent's copy (short name); null when detached or unknown. */
  branch: string | null;
  head: string | null;
  /** Registered with git as a worktree of this repo (agent 1, the primary clone, always is). */
  registered: boolean;
  locked: boolean;
  /** Whether the agent's folder still exists on disk. */
  exists: boolean;
  /** null when the copy cannot be read (its folder is gone). */
  dirty: DirtyCounts | null;
  /** What ahead/behind are counted against: the branch's upstream (its base), or null when it has none. */
  base: string | null;
  ahead: number | null;
  behind: number | null;
}

async function aheadBehind(cwd: string, branch: string): Promise<{ base: string | null; ahead: number | null; behind: number | null }> {
  const upstream = await gitResult(['rev-parse', '--abbrev-ref', `${branch}@{upstream}`], { cwd });
  if (upstream.exitCode !== 0) return { base: null, ahead: null, behind: null };
  const base = upstream.stdout.trim();
  const counts = await gitResult(['rev-list', '--left-right', '--count', `${branch}...${branch}@{upstream}`, '--'], { cwd });
  const [ahead, behind] = counts.stdout.trim().split(/\s+/).map(Number);
  return counts.exitCode === 0 ? { base, ahead: ahead ?? null, behind: behind ?? null } : { base, ahead: null, behind: null };
}

async function statusOf(devRoot: DevRoot, index: number, entry: WorktreeEntry | undefined): Promise<AgentStatus> {
  const paths = agentPaths(devRoot.config, index);
  const exists = existsSync(paths.worktree);
  const branch = entry?.branch?.replace(/^refs\/heads\//, '') ?? null;
  const readable = exists && entry !== undefined;
  const [dirty, tracking] = await Promise.all([
    readable ? dirtyCounts(paths.worktree).catch(() => null) : Promise.resolve(null),
    branch === null ? Promise.resolve({ base: null, ahead: null, behind: null }) : aheadBehind(devRoot.repo.top, branch),
  ]);
  return {
    index,
    name: paths.name,
    path: paths.worktree,
    devhome: paths.devhome,
    branch,
    head: entry?.head ?? null,
    registered: entry !== undefined,
    locked: entry?.locked ?? false,
    exists,
    dirty,
    ...tracking,
  };
}

/** Agent indexes whose working copy folder exists under the root, registered or not. */
function agentCopiesOnDisk(devRoot: DevRoot): number[] {
  try {
    return readdirSync(devRoot.config.root, { withFileTypes: true })
      .filter((dirent) => dirent.isDirectory())
      .map((dirent) => agentIndexOfFolder(dirent.name))
      .filter((index): index is number => index !== null && existsSync(agentPaths(devRoot.config, index).worktree));
  } catch {
    return [];
  }
}

/** Every agent devkit can see: agent 1, registered agent worktrees, and agent folders git does not know. */
export async function inspectAgents(devRoot: DevRoot): Promise<AgentStatus[]> {
  const entries = await listWorktrees(devRoot.repo.top);
  const byIndex = new Map<number, WorktreeEntry>();
  for (const entry of entries) {
    const index = agentIndexOfWorktree(devRoot.config, resolveExisting(entry.path));
    if (index !== null && !byIndex.has(index)) byIndex.set(index, entry);
  }
  const indexes = new Set<number>([1, ...byIndex.keys(), ...agentCopiesOnDisk(devRoot)]);
  const sorted = [...indexes].sort((a, b) => a - b);
  return Promise.all(sorted.map((index) => statusOf(devRoot, index, byIndex.get(index))));
}
