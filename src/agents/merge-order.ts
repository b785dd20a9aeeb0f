import { DevkitError } from '../errors.js';
import { agentName } from '../fleet/layout.js';
import type { ForkFacts, RadarCache } from './radar-cache.js';
import { forkApart, mayConflict, mergeConflicts, type ConflictPair } from './radar.js';
import { storeCommit, type SnapshotStore } from './snapshot.js';

/**
 * A merge order for agents' snapshots, checked by merging. Pairwise results
 * only approximate a sequence (after merging A and B, C can conflict with
 * what A and B made together though with neither alone), so the order is
 * proposed from the pairs and then merged one agent at a time in the
 * snapshot store (merge-tree, and a commit of each clean result to merge the
 * next onto, written by devkit: snapshot.ts storeCommit): `steps` say what
 * each agent conflicts on when merged onto everything merged cleanly before
 * it. A merge whose outcome where the agents fork proves is not run (Line).
 */

export interface MergeStep {
  agent: number;
  /** The files merging it onto the agents merged cleanly before it conflicts on; [] when it merges cleanly. */
  files: string[];
}

export interface MergeOrder {
  /** Every agent: those that merge cleanly one after another first, then those that conflict with them. */
  order: number[];
  steps: MergeStep[];
}

/** What mergeOrder works from: the radar's scan (radar.ts RadarScan). */
export interface MergeOrderInput {
  store: SnapshotStore;
  snapshots: ReadonlyMap<number, string>;
  pairs: readonly ConflictPair[];
  cache: RadarCache;
  /** Where each snapshot forks (none known: every step is merged). */
  forks: ReadonlyMap<number, ForkFacts>;
}

/** Paths in git's order (bytes, as the index sorts them). */
function gitOrder(paths: Iterable<string>): string[] {
  return [...paths].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/**
 * The merged line. An agent that cannot conflict with any agent in it
 * (radar.ts mayConflict, from where each forks and what each changed) joins
 * without a merge: the line then changes what they changed and nothing
 * else. Its commit is made, one merge per agent, only when an agent must be
 * merged onto it.
 */
class Line {
  readonly agents: number[] = [];
  /** Every agent joined without a merge: the line is their changes side by side, none meeting another's. */
  private sideBySide = true;
  private commit: string | null = null;
  /** How many of `agents` `commit` holds. */
  private made = 0;
  /** The making of the commit for the first `count` agents (the waiting agents ask for it side by side). */
  private making: { count: number; commit: Promise<string> } | null = null;

  constructor(private readonly input: MergeOrderInput) {}

  private snapshot(agent: number): string {
    return this.input.snapshots.get(agent) ?? '';
  }

  /** True when `agent` merges onto the line cleanly for certain: it meets none of the line's agents. */
  cannotConflict(agent: number): boolean {
    const facts = this.input.forks.get(agent);
    return (
      facts !== undefined &&
      this.agents.every((k) => {
        const other = this.input.forks.get(k);
        return other !== undefined && !mayConflict(facts, other);
      })
    );
  }

  /** Adds an agent known to merge cleanly (the first, or one that cannot conflict). */
  join(agent: number): void {
    this.agents.push(agent);
  }

  /** Merges `agent` onto the line: it joins when that is clean; the files it conflicts on otherwise. */
  async mergeIn(agent: number): Promise<string[]> {
    const line = await this.madeCommit();
    const { files, tree } = await mergeConflicts(this.input.store, [...this.agents, agent], line, this.snapshot(agent));
    if (files.length > 0) return files;
    this.commit = this.mergeCommit(tree, line, this.agents, agent);
    this.agents.push(agent);
    this.made = this.agents.length;
    this.sideBySide = false;
    return [];
  }

  /**
   * Whether what `agent` conflicts on against the line is what it conflicts
   * on against each of the line's agents, put together: so when the line is
   * its agents' changes side by side, none of them deleted a path (no rename
   * on the line's side), and the agent forks where they do. Each path then
   * merges as it does against the one agent that changed it.
   */
  private byPairs(agent: number): boolean {
    const facts = this.input.forks.get(agent);
    return (
      this.sideBySide &&
      facts !== undefined &&
      this.agents.every((k) => {
        const other = this.input.forks.get(k);
        return other !== undefined && other.deleted.length === 0 && forkApart(facts, other);
      })
    );
  }

  /** What `agent` conflicts on merged onto the line (it does not join). */
  async conflictsOf(agent: number): Promise<string[]> {
    if (this.byPairs(agent)) {
      const files = this.input.pairs.filter(
        (p) => p.agents.includes(agent) && p.agents.some((k) => k !== agent && this.agents.includes(k)),
      );
      return gitOrder(new Set(files.flatMap((p) => p.files)));
    }
    return (await mergeConflicts(this.input.store, [...this.agents, agent], await this.madeCommit(), this.snapshot(agent))).files;
  }

  /** The line's commit, made now for agents that joined without one. */
  madeCommit(): Promise<string> {
    if (this.making?.count !== this.agents.length) this.making = { count: this.agents.length, commit: this.makeCommit() };
    return this.making.commit;
  }

  private async makeCommit(): Promise<string> {
    for (; this.made < this.agents.length; this.made++) {
      const agent = this.agents[this.made] ?? 0;
      if (this.commit === null) {
        this.commit = this.snapshot(agent);
        continue;
      }
      const merged = this.agents.slice(0, this.made + 1);
      const { files, tree } = await mergeConflicts(this.input.store, merged, this.commit, this.snapshot(agent));
      // It joined because it cannot conflict: a conflict here is a fault in that rule, not the agents'.
      if (files.length > 0)
        throw new DevkitError(
          `devkit's merge order found ${agentName(agent)} conflicting on ${files.join(', ')} where it cannot: please report this`,
        );
      this.commit = this.mergeCommit(tree, this.commit, merged.slice(0, -1), agent);
    }
    return this.commit ?? '';
  }

  /** The commit of a clean merge of `agent` onto the line of agents `before`. */
  private mergeCommit(tree: string, line: string, before: readonly number[], agent: number): string {
    const message = `devkit: ${before.map(agentName).join(', ')} and ${agentName(agent)} merged`;
    return storeCommit(this.input.store, tree, [line, this.snapshot(agent)], message);
  }
}

/**
 * Greedy: agents with fewer conflicting partners first; an agent goes into
 * the merged line when it conflicts with none of it (pairwise, then by an
 * actual merge unless it cannot), else it waits; what waits is merged onto
 * the final line to name its files, but not into it.
 */
export async function mergeOrder(input: MergeOrderInput): Promise<MergeOrder> {
  const { snapshots, pairs, cache } = input;
  // The same snapshots always give the same order: merged once, then known.
  const key = [...snapshots].map(([agent, id]) => `${agent}:${id}`).join(' ');
  const known = cache.order(key);
  if (known !== null) return { order: known.map((step) => step.agent), steps: known };
  const partners = new Map<number, Set<number>>();
  for (const { agents } of pairs) {
    const [a, b] = agents;
    partners.set(a, (partners.get(a) ?? new Set()).add(b));
    partners.set(b, (partners.get(b) ?? new Set()).add(a));
  }
  const candidates = [...snapshots.keys()].sort((a, b) => (partners.get(a)?.size ?? 0) - (partners.get(b)?.size ?? 0) || a - b);
  const line = new Line(input);
  const waiting: number[] = [];
  for (const agent of candidates) {
    if (line.agents.some((k) => partners.get(agent)?.has(k))) waiting.push(agent);
    else if (line.agents.length === 0 || line.cannotConflict(agent)) line.join(agent);
    else if ((await line.mergeIn(agent)).length > 0) waiting.push(agent);
  }
  // What waits is merged onto the final line side by side: none of it goes into the line.
  const waited = await Promise.all(waiting.map(async (agent) => ({ agent, files: await line.conflictsOf(agent) })));
  const steps: MergeStep[] = [...line.agents.map((agent) => ({ agent, files: [] })), ...waited];
  cache.setOrder(key, steps);
  return { order: steps.map((step) => step.agent), steps };
}
