import type { CommandContext } from '../cli/context.js';
import { withFleetLock, type Fleet } from '../fleet/fleet.js';
import { agentName, agentNamespace } from '../fleet/layout.js';
import { branches, commitsOnlyOn, fetchChecked, refsUnder } from '../git/repo.js';
import { readCopy, type CopyFacts, type CopyState } from './copy.js';
import { copyGitTimeoutMs, withCopyView } from './copy-git.js';

/**
 * Bringing an agent's work into the shared repo. An agent commits in its own
 * copy (a repository of its own that borrows the shared objects); its
 * branches under `agentK/` reach the shared repo only through here: devkit
 * reads the copy's refs itself, lets git fetch them from a view of the copy
 * (copy-git.ts), which checks every object it brings (fsck, connectivity), and
 * updates `refs/heads/agentK/*` to match. A branch the agent deleted is
 * deleted here only when its commits are on another branch; otherwise it is
 * kept. Nothing outside `agentK/` is touched.
 */
export interface BranchChange {
  branch: string;
  from: string | null;
  to: string | null;
}

export interface SyncOutcome {
  index: number;
  name: string;
  state: CopyState;
  problems: string[];
  changed: BranchChange[];
  /** Branches the agent deleted that hold commits on no other branch: kept. */
  kept: string[];
  /** The copy's branches outside its namespace: they stay in the copy. */
  outside: string[];
  /** Why the sync failed (a branch checked out in the primary clone, an object git refused), or null. */
  error: string | null;
}

interface Plan {
  facts: CopyFacts;
  /** Refs to bring in or move: full name to commit. */
  updates: Map<string, string>;
  /** Refs the agent no longer has: full name to the commit the shared repo holds. */
  gone: Map<string, string>;
}

const short = (ref: string): string => ref.replace(/^refs\/heads\//, '');

/** What syncing agent K would change; `sharedRefs` are the shared repo's branches (refs/heads/*) to their commits. */
function plan(facts: CopyFacts, sharedRefs: ReadonlyMap<string, string>): Plan {
  const namespace = agentNamespace(facts.index);
  const shared = new Map([...sharedRefs].filter(([ref]) => ref.startsWith(namespace)));
  const updates = new Map<string, string>();
  const gone = new Map<string, string>();
  if (facts.state === 'ok') {
    for (const [ref, id] of facts.branches) if (ref.startsWith(namespace) && shared.get(ref) !== id) updates.set(ref, id);
    for (const [ref, id] of shared) if (!facts.branches.has(ref)) gone.set(ref, id);
  }
  return { facts, updates, gone };
}

function needsWork(p: Plan): boolean {
  return p.updates.size > 0 || p.gone.size > 0;
}

async function apply(fleet: Fleet, p: Plan): Promise<SyncOutcome> {
  const { facts } = p;
  const namespace = agentNamespace(facts.index);
  const outcome: SyncOutcome = {
    index: facts.index,
    name: agentName(facts.index),
    state: facts.state,
    problems: facts.problems,
    changed: [],
    kept: [],
    outside: [...facts.branches.keys()].filter((ref) => !ref.startsWith(namespace)).map(short),
    error: null,
  };
  if (p.updates.size > 0) {
    const before = await refsUnder(fleet.shared.git, namespace);
    await withCopyView(fleet, facts, { head: null, withIndex: false, withObjects: true, refs: p.updates }, async (view) => {
      const refspecs = [...p.updates.keys()].map((ref) => `+${ref}:${ref}`);
      await fetchChecked(fleet.shared.git, view.gitDir, refspecs, copyGitTimeoutMs(fleet.env, 'work'));
    });
    for (const [ref, id] of p.updates) outcome.changed.push({ branch: short(ref), from: before.get(ref) ?? null, to: id });
  }
  for (const [ref, id] of p.gone) {
    if ((await commitsOnlyOn(fleet.shared.git, short(ref), id)) > 0) {
      outcome.kept.push(short(ref));
      continue;
    }
    await fleet.shared.git.mutate(['update-ref', '-d', ref, id]);
    outcome.changed.push({ branch: short(ref), from: id, to: null });
  }
  return outcome;
}

async function sharedRefs(fleet: Fleet): Promise<Map<string, string>> {
  return new Map([...(await branches(fleet.shared.git))].map(([ref, info]) => [ref, info.id]));
}

/** Brings agent K's branches in. The caller holds the fleet lock. */
export async function syncAgent(fleet: Fleet, index: number): Promise<SyncOutcome> {
  return apply(fleet, plan(readCopy(fleet.config, fleet.shared.gitDir, index), await sharedRefs(fleet)));
}

/**
 * Brings every given agent's branches in, taking the lock only when one has
 * something to bring (status and list call this on every run, and an idle
 * fleet costs a read of each copy's refs). Agent 1 is the shared repo itself.
 */
export async function syncAgents(
  fleet: Fleet,
  context: CommandContext,
  indexes: readonly number[],
  known: { facts?: ReadonlyMap<number, CopyFacts>; shared?: ReadonlyMap<string, string> } = {},
): Promise<SyncOutcome[]> {
  const agents = indexes.filter((index) => index >= 2);
  const refs = known.shared ?? (await sharedRefs(fleet));
  const plans = agents.map((index) => plan(known.facts?.get(index) ?? readCopy(fleet.config, fleet.shared.gitDir, index), refs));
  if (!plans.some(needsWork)) return Promise.all(plans.map((p) => apply(fleet, p)));
  return withFleetLock(fleet, context, 'sync', async () => {
    const outcomes: SyncOutcome[] = [];
    // Planned again under the lock: another devkit may have synced meanwhile.
    for (const index of agents) outcomes.push(await syncAgentReporting(fleet, index));
    return outcomes;
  });
}

/** syncAgent, with a failure (a branch checked out in the primary clone, a bad object) reported in the outcome. */
async function syncAgentReporting(fleet: Fleet, index: number): Promise<SyncOutcome> {
  try {
    return await syncAgent(fleet, index);
  } catch (error) {
    const facts = readCopy(fleet.config, fleet.shared.gitDir, index);
    return {
      index,
      name: agentName(index),
      state: facts.state,
      problems: facts.problems,
      changed: [],
      kept: [],
      outside: [],
      error: error instanceof Error ? error.message : String(error),
    };
  }
}
