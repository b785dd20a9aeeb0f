import type { Fleet } from '../fleet/fleet.js';
import { agentName, agentNamespace } from '../fleet/layout.js';
import { branches, commitsOnlyOn, fetchChecked, refsUnder } from '../git/repo.js';
import type { CopyFacts, CopyState } from './copy.js';
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

export interface Plan {
  facts: CopyFacts;
  /** Refs to bring in or move: full name to commit. */
  updates: Map<string, string>;
  /** Refs the agent no longer has: full name to the commit the shared repo holds. */
  gone: Map<string, string>;
}

const short = (ref: string): string => ref.replace(/^refs\/heads\//, '');

/** What syncing agent K would change; `sharedRefs` are the shared repo's branches (refs/heads/*) to their commits. */
export function plan(facts: CopyFacts, sharedRefs: ReadonlyMap<string, string>): Plan {
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

export function needsWork(p: Plan): boolean {
  return p.updates.size > 0 || p.gone.size > 0;
}

/** Fetches `updates` (full ref name to commit) into the shared repo, every object checked. */
export type BringRefs = (updates: ReadonlyMap<string, string>) => Promise<void>;

/** From a local copy: git fetches from a view of it (copy-git.ts). */
function fromCopyView(fleet: Fleet, facts: CopyFacts): BringRefs {
  return (updates) =>
    withCopyView(fleet, facts, { head: null, withIndex: false, withObjects: true, refs: updates }, async (view) => {
      const refspecs = [...updates.keys()].map((ref) => `+${ref}:${ref}`);
      await fetchChecked(fleet.shared.git, view.gitDir, refspecs, copyGitTimeoutMs(fleet.env, 'work'));
    });
}

export async function apply(fleet: Fleet, p: Plan, bring: BringRefs = fromCopyView(fleet, p.facts)): Promise<SyncOutcome> {
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
    await bring(p.updates);
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

export async function sharedRefs(fleet: Fleet): Promise<Map<string, string>> {
  return new Map([...(await branches(fleet.shared.git))].map(([ref, info]) => [ref, info.id]));
}
