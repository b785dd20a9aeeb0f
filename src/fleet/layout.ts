import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { DevkitConfig } from '../config/config.js';
import { parseAgentName } from '../validate.js';

export { parseAgentName };

/** Where agent K lives (design.md, "Words"). Relative paths are from the dev root, for safe-fs walks. */
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
  /** The same places relative to the dev root. */
  rel: { dir: string; worktree: string; devhome: string };
}

type Layout = Pick<DevkitConfig, 'root' | 'repo'>;

export function agentName(index: number): string {
  return `agent${index}`;
}

export function agentBranch(index: number): string {
  return `${agentName(index)}/main`;
}

/** The branches agent K may make and move, as a ref prefix: `refs/heads/agentK/`. */
export function agentNamespace(index: number): string {
  return `refs/heads/${agentName(index)}/`;
}

export function primaryClone(config: Layout): string {
  return path.join(config.root, config.repo);
}

export function agentPaths(config: Layout, index: number): AgentPaths {
  const name = agentName(index);
  if (index === 1) {
    const devhome = `${config.repo}/.devhome-${name}`;
    return {
      index,
      name,
      dir: primaryClone(config),
      worktree: primaryClone(config),
      devhome: path.join(config.root, devhome),
      branch: null,
      rel: { dir: config.repo, worktree: config.repo, devhome },
    };
  }
  const rel = { dir: name, worktree: `${name}/${config.repo}`, devhome: `${name}/.devhome-${name}` };
  return {
    index,
    name,
    dir: path.join(config.root, rel.dir),
    worktree: path.join(config.root, rel.worktree),
    devhome: path.join(config.root, rel.devhome),
    branch: agentBranch(index),
    rel,
  };
}

/** Agent K's copy as exec-cd's PATH in a profile's mount: under the dev root in dev-all, `.` in its own profile. */
export function copyPathIn(config: Layout, index: number, profile: string): string {
  return profile === 'dev-all' ? path.relative(config.root, agentPaths(config, index).worktree) : '.';
}

/** The agent index of a folder name `agentK` (K >= 2), or null. */
export function agentIndexOfFolder(folder: string): number | null {
  const index = parseAgentName(folder);
  return index !== null && index >= 2 ? index : null;
}

/** Agent folders under the root (`agentK`, K >= 2), whatever they hold; none when the root cannot be read. */
export function agentFolders(root: string): number[] {
  try {
    return readdirSync(root)
      .map(agentIndexOfFolder)
      .filter((index): index is number => index !== null);
  } catch {
    return [];
  }
}

/** The agents devkit has records of and the agent folders under the root, each once, in order. */
export function agentIndexesSeen(root: string, recorded: Iterable<number>): number[] {
  return [...new Set([...recorded, ...agentFolders(root)])].sort((a, b) => a - b);
}

/** The agent index of a working copy path: 1 for the primary clone, K for `<root>/agentK/<repo>`, else null. */
export function agentIndexOfCopy(config: Layout, copy: string): number | null {
  if (path.resolve(copy) === primaryClone(config)) return 1;
  if (path.basename(copy) !== config.repo || path.dirname(path.dirname(copy)) !== config.root) return null;
  return agentIndexOfFolder(path.basename(path.dirname(copy)));
}

/** The agent whose copy holds `dir` (a folder inside a copy counts), or null. */
export function agentIndexHolding(config: Layout, dir: string): number | null {
  const relative = path.relative(config.root, path.resolve(dir));
  if (relative.startsWith('..') || path.isAbsolute(relative)) return null;
  const [first, second] = relative.split(path.sep);
  if (first === config.repo) return 1;
  const index = first === undefined ? null : agentIndexOfFolder(first);
  return index !== null && second === config.repo ? index : null;
}

/** Lines in info/exclude that keep every agent's HOME out of commits. */
export const DEVHOME_EXCLUDES = ['/.devhome/', '/.devhome-agent*/'];
