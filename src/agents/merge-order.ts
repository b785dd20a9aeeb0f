import type { RadarCache } from './radar-cache.js';
import { mergeConflicts, type ConflictPair } from './radar.js';
import { storeCommit, type SnapshotStore } from './snapshot.js';

/**
 * A merge order for agents' snapshots, checked by merging. Pairwise results
 * only approximate a sequence (after merging A and B, C can conflict with
 * what A and B made together though with neither alone), so the order is
 * proposed from the pairs and then merged one agent at a time in the
 * snapshot store (merge-tree, and a commit of each clean result to merge the
 * next onto, written by devkit: snapshot.ts storeCommit): `steps` say what each agent conflicts on when merged onto
 * everything merged cleanly before it.
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

/**
 * Greedy: agents with fewer conflicting partners first; an agent goes into
 * the merged line when it conflicts with none of it (pairwise, then by an
 * actual merge), else it waits; what waits is merged onto the final line to
 * name its files, but not into it.
 */
export async function mergeOrder(
  store: SnapshotStore,
  snapshots: ReadonlyMap<number, string>,
  pairs: readonly ConflictPair[],
  cache: RadarCache,
): Promise<MergeOrder> {
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
  const merged: number[] = [];
  const waiting: number[] = [];
  let line: string | null = null;
  for (const agent of candidates) {
    const snapshot = snapshots.get(agent) ?? '';
    if (line === null) {
      line = snapshot;
      merged.push(agent);
      continue;
    }
    if (merged.some((k) => partners.get(agent)?.has(k))) {
      waiting.push(agent);
      continue;
    }
    const { files, tree } = await mergeConflicts(store, [...merged, agent], line, snapshot);
    if (files.length > 0) {
      waiting.push(agent);
      continue;
    }
    const message = `devkit: ${merged.map((k) => `agent${k}`).join(', ')} and agent${agent} merged`;
    line = storeCommit(store, tree, [line, snapshot], message);
    merged.push(agent);
  }
  // What waits is merged onto the final line side by side: none of it goes into the line.
  const waited = await Promise.all(
    waiting.map(async (agent) => ({
      agent,
      files: (await mergeConflicts(store, [...merged, agent], line ?? '', snapshots.get(agent) ?? '')).files,
    })),
  );
  const steps: MergeStep[] = [...merged.map((agent) => ({ agent, files: [] })), ...waited];
  cache.setOrder(key, steps);
  return { order: steps.map((step) => step.agent), steps };
}
