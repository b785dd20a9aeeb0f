import path from 'node:path';
import { isRecord } from '../json-object.js';
import { readStateJson, writeStateJson, type SnapshotRecord } from './snapshot.js';

/**
 * What the conflict radar learnt, kept in the snapshot store (the state
 * folder) so that `status`, run every 2 s by --watch, runs no git for what
 * did not change: of each agent (its last snapshot, where a snapshot forks)
 * in `devkit-snapshots.json`, of pairs of them (merge results, merge orders)
 * in `devkit-radar.json`. Everything but the snapshot records is keyed by
 * commit ids, so an entry is never stale: only unused; a snapshot record
 * says what it was made from (snapshot.ts).
 */

/** Where snapshot S stands against a reference commit R (radar.ts). */
export interface ForkFacts {
  /** merge-base(S, R), or null when they share no history. */
  fork: string | null;
  /** The commits of fork..S (the snapshot included), or null when too many to keep. */
  commits: string[] | null;
  /** Paths changed between fork and S, both sides of a rename. */
  paths: string[];
  /** Those of `paths` S no longer has (deleted, or the source of a rename): only they can make a directory rename. */
  deleted: string[];
}

/** A merge order found by merging (merge-order.ts): every agent with the files it conflicts on when its turn comes. */
export type CachedOrder = Array<{ agent: number; files: string[] }>;

interface CacheData {
  snapshots: Record<string, SnapshotRecord>;
  forks: Record<string, ForkFacts>;
  pairs: Record<string, string[]>;
  orders: Record<string, CachedOrder>;
}

type Kind = keyof CacheData;

/** Which file keeps each kind: what is known of one agent apart from what is known of pairs. */
const FILES: Record<string, readonly Kind[]> = {
  'devkit-snapshots.json': ['snapshots', 'forks'],
  'devkit-radar.json': ['pairs', 'orders'],
};

export class RadarCache {
  private readonly used: CacheData = { snapshots: {}, forks: {}, pairs: {}, orders: {} };
  private readonly changed = new Set<Kind>();

  private constructor(
    private readonly dir: string,
    private readonly data: CacheData,
  ) {}

  static load(storeDir: string): RadarCache {
    const data: CacheData = { snapshots: {}, forks: {}, pairs: {}, orders: {} };
    for (const [name, kinds] of Object.entries(FILES)) {
      const raw = readStateJson(path.join(storeDir, name));
      for (const kind of kinds) if (isRecord(raw) && isRecord(raw[kind])) data[kind] = raw[kind] as Record<string, never>;
    }
    return new RadarCache(storeDir, data);
  }

  private get<K extends Kind>(kind: K, key: string): CacheData[K][string] | null {
    const found = (this.data[kind] as Record<string, CacheData[K][string]>)[key];
    if (found === undefined) return null;
    (this.used[kind] as Record<string, CacheData[K][string]>)[key] = found;
    return found;
  }

  private set<K extends Kind>(kind: K, key: string, value: CacheData[K][string]): void {
    (this.data[kind] as Record<string, CacheData[K][string]>)[key] = value;
    (this.used[kind] as Record<string, CacheData[K][string]>)[key] = value;
    this.changed.add(kind);
  }

  snapshot(index: number): SnapshotRecord | null {
    return this.get('snapshots', String(index));
  }

  setSnapshot(index: number, record: SnapshotRecord): void {
    if (JSON.stringify(this.snapshot(index)) !== JSON.stringify(record)) this.set('snapshots', String(index), record);
  }

  // Keyed `v2 S R`: entries from before ForkFacts had `deleted` are not read, and are pruned.
  fork(snapshot: string, reference: string): ForkFacts | null {
    return this.get('forks', `v2 ${snapshot} ${reference}`);
  }

  setFork(snapshot: string, reference: string, facts: ForkFacts): void {
    this.set('forks', `v2 ${snapshot} ${reference}`, facts);
  }

  /** The files merging two snapshots conflicts on (either order: a merge's conflicts do not depend on it). */
  pair(a: string, b: string): string[] | null {
    return this.get('pairs', [a, b].sort().join(' '));
  }

  setPair(a: string, b: string, files: string[]): void {
    this.set('pairs', [a, b].sort().join(' '), files);
  }

  /** The merge order of these agents' snapshots (agent and snapshot id), as found before. */
  order(key: string): CachedOrder | null {
    return this.get('orders', key);
  }

  setOrder(key: string, steps: CachedOrder): void {
    this.set('orders', key, steps);
  }

  /**
   * Writes what changed. With `prune` (a look at every agent), only what this
   * run used is kept, so the files do not grow with every edit an agent makes.
   */
  save(prune: boolean): void {
    const size = (d: CacheData, kind: Kind): number => Object.keys(d[kind]).length;
    for (const [name, kinds] of Object.entries(FILES)) {
      const stale = prune && kinds.some((kind) => size(this.used, kind) !== size(this.data, kind));
      if (!stale && !kinds.some((kind) => this.changed.has(kind))) continue;
      const kept = prune ? this.used : this.data;
      writeStateJson(path.join(this.dir, name), Object.fromEntries(kinds.map((kind) => [kind, kept[kind]])));
    }
  }
}
