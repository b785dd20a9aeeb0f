import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CommandContext } from '../cli/context.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentBranch, agentIndexesSeen, agentName, agentPaths } from '../fleet/layout.js';
import { agentVolumes } from '../stack/project-names.js';
import type { RemoteSyncOutcome } from './remote-sync.js';
import { readAgentRecords } from '../fleet/records.js';
import { parseHead } from '../git/refs.js';
import { branches as sharedBranches, shortBranch, type BranchInfo } from '../git/repo.js';
import { TIMED_OUT, gaveNoAnswer, type GitResult } from '../git/git.js';
import { parseStatus, statusArgs, type DirtyCounts } from '../git/status.js';
import { headBranch, headCommit, readCopy, type CopyFacts } from './copy.js';
import { checkedIndexOf, copyGitTimeoutMs, copyStatus } from './copy-git.js';
import { debugError } from '../debug.js';
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
  /** The docker context of the engine a remote agent's copy lives on (in a volume there); null for a copy under the dev root. */
  engine: string | null;
}

/**
 * Every agent devkit can see: agent 1, agents it made, and agent folders
 * holding a copy it has no record of; each copy read once, and handed to
 * `onRead` as soon as it is (status starts its git there, while it reads the
 * next copy).
 */
export function knownCopies(
  fleet: Fleet,
  onRead: (facts: CopyFacts, recorded: boolean) => void = () => undefined,
): { recorded: Set<number>; facts: Map<number, CopyFacts> } {
  const recorded = new Set(readAgentRecords(fleet.state).keys());
  const facts = new Map<number, CopyFacts>();
  for (const index of agentIndexesSeen(fleet.config.root, recorded)) {
    const read = readCopy(fleet.config, fleet.shared.gitDir, index, { checkedIndex: checkedIndexOf(fleet, index) });
    if (recorded.has(index) || read.state !== 'missing') {
      facts.set(index, read);
      onRead(read, recorded.has(index));
    }
  }
  return { recorded, facts };
}

/** Every agent index devkit can see (see knownCopies), agent 1 first. */
export function knownIndexes(fleet: Fleet): { recorded: Set<number>; all: number[] } {
  const { recorded, facts } = knownCopies(fleet);
  return { recorded, all: [1, ...facts.keys()] };
}

function tracking(info: BranchInfo | undefined): Pick<CopySummary, 'base' | 'ahead' | 'behind'> {
  return { base: info?.upstream ?? null, ahead: info?.track?.ahead ?? null, behind: info?.track?.behind ?? null };
}

/** The primary clone's HEAD, read from its HEAD file (devkit trusts it) and the branches already listed. */
function primaryHead(fleet: Fleet, shared: Map<string, BranchInfo>): { branch: string | null; commit: string | null } {
  const head = parseHead(readFileSync(path.join(fleet.shared.gitDir, 'HEAD'), 'utf8'));
  if (head === null) return { branch: null, commit: null };
  return head.kind === 'branch' ? { branch: head.ref, commit: shared.get(head.ref)?.id ?? null } : { branch: null, commit: head.commit };
}

function primarySummary(fleet: Fleet, shared: Map<string, BranchInfo>, status: GitResult): CopySummary {
  const paths = agentPaths(fleet.config, 1);
  const head = primaryHead(fleet, shared);
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
    engine: null,
  };
}

interface SummaryInput {
  facts: CopyFacts;
  recorded: boolean;
  shared: Map<string, BranchInfo>;
  sync: SyncOutcome | undefined;
  /** `git status` of the copy (null when it could not be read), and why not when that is worth saying. */
  status: CopyStatus;
  /** The context of its engine, for an agent whose copy is a volume there (its record says). */
  engine: string | null;
}

/**
 * An agent whose copy is a volume on a remote engine, as the sync before
 * this left it: its branch as the shared repo has it now, what its snapshot
 * changes, and, when its engine did not answer, the last synced state with
 * the reason among its problems.
 */
function remoteSummary(fleet: Fleet, input: SummaryInput & { engine: string }): CopySummary {
  const paths = agentPaths(fleet.config, input.facts.index);
  const branch = agentBranch(input.facts.index);
  const info = input.shared.get(`refs/heads/${branch}`);
  const { sync } = input;
  const changes = remoteOutcome(sync)?.changes ?? null;
  return {
    index: input.facts.index,
    name: paths.name,
    path: `${agentVolumes(fleet.config, input.facts.index).copy} (docker context ${input.engine})`,
    devhome: `${agentVolumes(fleet.config, input.facts.index).home} (docker context ${input.engine})`,
    branch,
    head: info?.id ?? null,
    condition: 'ok',
    problems: sync?.error ? [sync.error] : [],
    exists: true,
    dirty: sync?.error ? null : changes,
    stashes: 0,
    ...tracking(info),
    engine: input.engine,
  };
}

/** How a copy reads: as devkit made it, or what is wrong with it (see CopySummary.condition). */
export function copyCondition(facts: CopyFacts, recorded: boolean): CopyCondition {
  return facts.state !== 'ok' ? facts.state : recorded ? 'ok' : 'unregistered';
}

function agentSummary(fleet: Fleet, input: SummaryInput): CopySummary {
  if (input.engine !== null) return remoteSummary(fleet, { ...input, engine: input.engine });
  const { facts } = input;
  const paths = agentPaths(fleet.config, facts.index);
  const branch = headBranch(facts);
  const head = headCommit(facts);
  const dirt = input.status.status === null ? null : parseStatus(input.status.status);
  const condition = copyCondition(facts, input.recorded);
  return {
    index: facts.index,
    name: paths.name,
    path: paths.worktree,
    devhome: paths.devhome,
    branch,
    head,
    condition,
    problems: [
      ...facts.problems,
      ...(input.sync?.error ? [input.sync.error] : []),
      ...(input.status.problem === null ? [] : [input.status.problem]),
    ],
    exists: facts.state !== 'missing',
    dirty: dirt === null ? null : { modified: dirt.modified, untracked: dirt.untracked },
    stashes: facts.stash?.count ?? 0,
    ...tracking(branch === null ? undefined : input.shared.get(`refs/heads/${branch}`)),
    engine: null,
  };
}

/** `git status` of a copy: its porcelain output, or null with why (null: it failed as git does on a copy it cannot read). */
interface CopyStatus {
  status: string | null;
  problem: string | null;
}

/**
 * `git status` of a readable copy. A copy's status does not depend on the
 * sync (which moves shared refs only), so it is asked beside it; the view
 * reads the shared store and the copy's quarantine, so a HEAD found in
 * neither (a commit not yet brought in) fails once and is asked again with
 * the quarantine refreshed from the copy. A git stopped for taking too long
 * (an agent can make it read for hours) is a problem of the copy, said so.
 */
async function statusOfCopy(fleet: Fleet, facts: CopyFacts): Promise<CopyStatus> {
  const ask = (withObjects: boolean): Promise<GitResult | null> =>
    copyStatus(fleet, { facts, head: headCommit(facts), withObjects }).catch((error: unknown) => {
      debugError(`status of ${agentName(facts.index)}'s copy`, error);
      return null;
    });
  let result = await ask(false);
  if (result?.exitCode !== 0 && result?.exitCode !== TIMED_OUT && headCommit(facts) !== null) result = await ask(true);
  if (result?.exitCode === 0) return { status: result.stdout, problem: null };
  const timedOut = result?.exitCode === TIMED_OUT;
  return { status: null, problem: timedOut ? `its ${gaveNoAnswer(copyGitTimeoutMs(fleet.env, 'status'))}` : null };
}

/** Every agent's summary, after bringing their branches into the shared repo. */
export async function inspectAgents(fleet: Fleet, context: CommandContext): Promise<CopySummary[]> {
  return (await inspectAgentsWithFacts(fleet, context)).summaries;
}

/** Every copy devkit can see, read and synced (see readAndSync). */
export interface SyncedCopies {
  recorded: Set<number>;
  facts: Map<number, CopyFacts>;
  synced: SyncOutcome[];
  /** The shared repo's branches, after the sync. */
  shared: Map<string, BranchInfo>;
  /** The primary clone's HEAD commit (null with none). */
  primaryHead: string | null;
}

/**
 * Reads every copy (handing each to `onRead` as soon as it is read, with
 * whether devkit made it: a git can start there while the next is read),
 * then brings agents' branches into the shared repo.
 */
export async function readAndSync(
  fleet: Fleet,
  context: CommandContext,
  onRead: (facts: CopyFacts, recorded: boolean) => void,
): Promise<SyncedCopies> {
  const branchesBefore = sharedBranches(fleet.shared.git, { batched: true });
  const { recorded, facts } = knownCopies(fleet, onRead);
  const before = await branchesBefore;
  const synced = await syncAgents(fleet, context, [...recorded], {
    facts,
    shared: new Map([...before].map(([ref, info]) => [ref, info.id])),
  });
  // Read again when a sync moved a branch: ahead/behind counts change with it.
  const shared = synced.some((s) => s.changed.length > 0) ? await sharedBranches(fleet.shared.git) : before;
  return { recorded, facts, synced, shared, primaryHead: primaryHead(fleet, shared).commit };
}

/**
 * inspectAgents, with each copy as it was read and each remote agent's synced
 * snapshot (for what looks further at the copies: the conflict radar).
 */
export async function inspectAgentsWithFacts(
  fleet: Fleet,
  context: CommandContext,
): Promise<{ summaries: CopySummary[]; facts: Map<number, CopyFacts>; synced: Map<number, string> }> {
  // Every git starts as soon as what it needs is known: the shared repo's first, then each copy's as it is read.
  const primaryStatus = fleet.shared.git.result(statusArgs(false), { batched: true });
  const copyStatuses = new Map<number, Promise<CopyStatus>>();
  const { recorded, facts, synced, shared } = await readAndSync(fleet, context, (f) => {
    if (f.state === 'ok') copyStatuses.set(f.index, statusOfCopy(fleet, f));
  });
  const records = readAgentRecords(fleet.state);
  const agents = await Promise.all(
    [...facts.values()].map(async (f) =>
      agentSummary(fleet, {
        facts: f,
        recorded: recorded.has(f.index),
        shared,
        sync: synced.find((s) => s.index === f.index),
        status: (await copyStatuses.get(f.index)) ?? { status: null, problem: null },
        engine: records.get(f.index)?.engine ?? null,
      }),
    ),
  );
  return { summaries: [primarySummary(fleet, shared, await primaryStatus), ...agents], facts, synced: syncedSnapshots(synced) };
}

/** A remote agent's sync outcome (remote-sync.ts adds what its snapshot holds), or null for a local agent's. */
function remoteOutcome(sync: SyncOutcome | undefined): RemoteSyncOutcome | null {
  return sync !== undefined && 'snapshot' in sync ? (sync as RemoteSyncOutcome) : null;
}

/** The snapshots remote agents' syncs brought home (remote-sync.ts), for the conflict radar. */
export function syncedSnapshots(outcomes: readonly SyncOutcome[]): Map<number, string> {
  const snapshots = new Map<number, string>();
  for (const outcome of outcomes) {
    const snapshot = remoteOutcome(outcome)?.snapshot ?? null;
    if (outcome.error === null && snapshot !== null) snapshots.set(outcome.index, snapshot);
  }
  return snapshots;
}
