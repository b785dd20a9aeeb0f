import { readdirSync } from 'node:fs';
import type { CommandContext } from '../cli/context.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentIndexOfFolder, agentName, agentPaths } from '../fleet/layout.js';
import { readAgentRecords } from '../fleet/records.js';
import { headState, branches as sharedBranches, shortBranch, type BranchInfo } from '../git/repo.js';
import { parseStatus, statusArgs, type DirtyCounts } from '../git/status.js';
import { headBranch, headCommit, readCopy, type CopyFacts } from './copy.js';
import { withCopyView } from './copy-git.js';
import { debugSwallow } from '../debug.js';
import { syncAgents, type SyncOutcome } from './sync.js';

/**
 * The git side of every agent, as `worktrees list` and `status` show it:
 * its branch and HEAD, what it holds that is not committed, where its branch
 * stands against its base, and whether its copy still links up as devkit
 * made it. Agents' branches are brought into the shared repo first (sync.ts).
 */
export type CopyCondition = 'ok' | 'missing' | 'tampered' | 'unregistered';

export interface CopySummary {
  index: number;
  name: string;
  path: string;
  devhome: string;
  /** The branch checked out in the agent's copy (short name); null when detached or unreadable. */
  branch: string | null;
  head: string | null;
  /** ok; missing (folder gone); tampered (does not link up as devkit made it); unregistered (a copy devkit has no record of). */
  condition: CopyCondition;
  /** What was found, for tampered copies and failed syncs. */
  problems: string[];
  exists: boolean;
  /** null when the copy cannot be read. */
  dirty: Omit<DirtyCounts, 'ignored'> | null;
  /** Entries in the copy's own stash (it stays in the copy, never in the shared repo). */
  stashes: number;
  /** What ahead/behind are counted against: the branch's upstream (its base), or null when it has none. */
  base: string | null;
  ahead: number | null;
  behind: number | null;
}

/** Agent indexes with a folder under the root that holds a copy, registered or not. */
function copiesOnDisk(fleet: Fleet): number[] {
  let names: string[];
  try {
    names = readdirSync(fleet.config.root);
  } catch {
    return [];
  }
  return names.map(agentIndexOfFolder).filter((index): index is number => index !== null && readCopy(fleet.config, fleet.shared.gitDir, index).state !== 'missing');
}

/** Every agent devkit can see: agent 1, agents it made, and agent folders it has no record of. */
export function knownIndexes(fleet: Fleet): { recorded: Set<number>; all: number[] } {
  const recorded = new Set(readAgentRecords(fleet.state).keys());
  const all = [...new Set([1, ...recorded, ...copiesOnDisk(fleet)])].sort((a, b) => a - b);
  return { recorded, all };
}

function tracking(info: BranchInfo | undefined): Pick<CopySummary, 'base' | 'ahead' | 'behind'> {
  return { base: info?.upstream ?? null, ahead: info?.track?.ahead ?? null, behind: info?.track?.behind ?? null };
}

async function copyDirt(fleet: Fleet, facts: CopyFacts): Promise<DirtyCounts | null> {
  if (facts.state !== 'ok') return null;
  return withCopyView(fleet, facts, { head: headCommit(facts), withIndex: true, withObjects: true }, async (view) =>
    parseStatus(await view.git.run(statusArgs(false))),
  ).catch(debugSwallow(`status of ${agentName(facts.index)}'s copy`));
}

async function primarySummary(fleet: Fleet, shared: Map<string, BranchInfo>): Promise<CopySummary> {
  const paths = agentPaths(fleet.config, 1);
  const [head, status] = await Promise.all([headState(fleet.shared.git), fleet.shared.git.result(statusArgs(false))]);
  const branch = head.branch === null ? null : shortBranch(head.branch);
  return {
    index: 1,
    name: paths.name,
    path: paths.worktree,
    devhome: paths.devhome,
    branch,
    head: head.commit,
    condition: 'ok',
    problems: [],
    exists: true,
    dirty: status.exitCode === 0 ? parseStatus(status.stdout) : null,
    stashes: 0,
    ...tracking(head.branch === null ? undefined : shared.get(head.branch)),
  };
}

async function agentSummary(fleet: Fleet, index: number, recorded: boolean, shared: Map<string, BranchInfo>, sync: SyncOutcome | undefined): Promise<CopySummary> {
  const paths = agentPaths(fleet.config, index);
  const facts = readCopy(fleet.config, fleet.shared.gitDir, index);
  const branch = headBranch(facts);
  const dirt = await copyDirt(fleet, facts);
  const condition: CopyCondition = facts.state !== 'ok' ? facts.state : recorded ? 'ok' : 'unregistered';
  return {
    index,
    name: paths.name,
    path: paths.worktree,
    devhome: paths.devhome,
    branch,
    head: headCommit(facts),
    condition,
    problems: [...facts.problems, ...(sync?.error ? [sync.error] : [])],
    exists: facts.state !== 'missing',
    dirty: dirt === null ? null : { modified: dirt.modified, untracked: dirt.untracked },
    stashes: facts.stash?.count ?? 0,
    ...tracking(branch === null ? undefined : shared.get(`refs/heads/${branch}`)),
  };
}

/** Every agent's summary, after bringing their branches into the shared repo. */
export async function inspectAgents(fleet: Fleet, context: CommandContext): Promise<CopySummary[]> {
  const { recorded, all } = knownIndexes(fleet);
  const synced = await syncAgents(fleet, context, [...recorded]);
  const shared = await sharedBranches(fleet.shared.git);
  return Promise.all(
    all.map((index) =>
      index === 1 ? primarySummary(fleet, shared) : agentSummary(fleet, index, recorded.has(index), shared, synced.find((s) => s.index === index)),
    ),
  );
}
