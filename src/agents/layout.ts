import path from 'node:path';
import type { DevkitConfig } from '../config/config.js';
import { resolveExisting } from '../validate.js';

/** Where agent K lives (design.md, "Words"). */
export interface AgentPaths {
  index: number;
  name: string;
  /** The agent's own folder: the primary clone for agent 1, `<root>/agentK` for the others. */
  dir: string;
  /** The agent's working copy. */
  worktree: string;
  /** The agent's HOME. */
  devhome: string;
  /** The agent's branch; null for agent 1, which keeps whatever the primary clone has checked out. */
  branch: string | null;
}

export function agentName(index: number): string {
  return `agent${index}`;
}

export function agentBranch(index: number): string {
  return `${agentName(index)}/main`;
}

export function primaryClone(config: Pick<DevkitConfig, 'root' | 'repo'>): string {
  return path.join(config.root, config.repo);
}

export function agentPaths(config: Pick<DevkitConfig, 'root' | 'repo'>, index: number): AgentPaths {
  const name = agentName(index);
  if (index === 1) {
    const primary = primaryClone(config);
    return { index, name, dir: primary, worktree: primary, devhome: path.join(primary, `.devhome-${name}`), branch: null };
  }
  const dir = path.join(config.root, name);
  return {
    index,
    name,
    dir,
    worktree: path.join(dir, config.repo),
    devhome: path.join(dir, `.devhome-${name}`),
    branch: agentBranch(index),
  };
}

/** The agent index of a folder name `agentK` (K >= 2), or null. */
export function agentIndexOfFolder(folder: string): number | null {
  const match = /^agent([1-9][0-9]*)$/.exec(folder);
  const index = match?.[1] === undefined ? null : Number(match[1]);
  return index !== null && index >= 2 ? index : null;
}

/** The agent index of a worktree path: 1 for the primary clone, K for `<root>/agentK/<repo>`, else null. */
export function agentIndexOfWorktree(config: Pick<DevkitConfig, 'root' | 'repo'>, worktree: string): number | null {
  if (path.resolve(worktree) === primaryClone(config)) return 1;
  if (path.basename(worktree) !== config.repo || path.dirname(path.dirname(worktree)) !== config.root) return null;
  return agentIndexOfFolder(path.basename(path.dirname(worktree)));
}

/** Agent indexes of registered worktrees whose folder exists (agent 1, the primary clone, included), sorted. */
export function agentIndexesOf(config: Pick<DevkitConfig, 'root' | 'repo'>, entries: ReadonlyArray<{ path: string; prunableReason: string | null }>): number[] {
  const indexes = entries
    .filter((entry) => entry.prunableReason === null)
    .map((entry) => agentIndexOfWorktree(config, resolveExisting(entry.path)))
    .filter((index): index is number => index !== null);
  return [...new Set(indexes)].sort((a, b) => a - b);
}

/** The reason devkit writes on the worktrees it locks; prune and doctor look for it. */
export function lockReason(index: number): string {
  return `devkit: ${agentName(index)} (remove with devkit worktrees remove ${index})`;
}

/** Lines in the shared info/exclude that keep every agent's HOME out of commits. */
export const DEVHOME_EXCLUDES = ['/.devhome/', '/.devhome-agent*/'];
