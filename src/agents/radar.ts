import { GitError, lines } from '../git/git.js';
import type { Fleet } from '../fleet/fleet.js';
import type { CopyFacts } from './copy.js';
import type { CopySummary } from './inspect.js';
import { RadarCache, type ForkFacts } from './radar-cache.js';
import { snapshotStore, takeSnapshot, type SnapshotStore } from './snapshot.js';

/**
 * The conflict radar: whether merging two agents' work (commits and
 * uncommitted changes: their snapshots) would conflict, and on which files,
 * from `git merge-tree --write-tree` in devkit's snapshot store. No copy,
 * index or shared ref is touched.
 *
 * Most pairs need no merge: a pair is known clean without git when both
 * snapshots fork from the same commit F of a reference (the primary clone's
 * HEAD), share no commit past F (so F is their one merge base), and the
 * paths each changed since F, with every folder above them, have nothing in
 * common. Every conflict merge-ort reports involves a path or a folder both
 * sides touched: content, add/add and modify/delete on one path;
 * file/directory on a path one side has as a file and the other as a folder;
 * renames through both sides of the rename (diffed with --no-renames); and a
 * directory rename, whose source folder the other side must have added to.
 * Any other pair is merged; results are kept by snapshot ids (radar-cache.ts).
 */

export interface ConflictPair {
  agents: [number, number];
  files: string[];
}

/** An agent the radar looks at: its copy as read, and whether `git status` found it clean. */
export interface RadarInput {
  facts: CopyFacts;
  /** false when git status found nothing to commit (its snapshot is its HEAD); null when not known. */
  dirty: boolean | null;
}

export interface RadarScan {
  store: SnapshotStore;
  /** Each agent's snapshot commit (agents with no commit are left out). */
  snapshots: Map<number, string>;
  /** The pairs that conflict, in agent order. */
  pairs: ConflictPair[];
  cache: RadarCache;
}

const MAX_FORK_COMMITS = 2000;

/** Every folder above `file` ("a/b/c" -> "a", "a/b"); the top of the tree is no folder anyone adds to. */
function folders(file: string): string[] {
  const parts = file.split('/');
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

/** False only when merging the two cannot conflict (see above). */
export function mayConflict(a: ForkFacts, b: ForkFacts): boolean {
  if (a.fork === null || a.fork !== b.fork || a.commits === null || b.commits === null) return true;
  const aCommits = new Set(a.commits);
  if (b.commits.some((c) => aCommits.has(c))) return true;
  const touched = new Set(a.paths.flatMap((p) => [p, ...folders(p)]));
  return b.paths.some((p) => touched.has(p) || folders(p).some((f) => touched.has(f)));
}

/** Where snapshot S stands against reference R: their fork, the commits since and the paths changed. */
async function forkFacts(store: SnapshotStore, index: number, snapshot: string, reference: string): Promise<ForkFacts> {
  if (snapshot === reference) return { fork: reference, commits: [], paths: [] };
  const call = store.withAgents([index], { batched: true });
  const base = await store.git.result(['merge-base', snapshot, reference], call);
  if (base.exitCode === 1) return { fork: null, commits: null, paths: [] };
  if (base.exitCode !== 0) throw new GitError(['merge-base', snapshot, reference], base);
  const fork = base.stdout.trim();
  const [commits, paths] = await Promise.all([
    store.git.run(['rev-list', `--max-count=${MAX_FORK_COMMITS + 1}`, snapshot, `^${fork}`, '--'], call),
    store.git.run(['diff', '--name-only', '--no-renames', '-z', fork, snapshot, '--'], call),
  ]);
  const list = lines(commits);
  return { fork, commits: list.length > MAX_FORK_COMMITS ? null : list, paths: paths.split('\0').filter((p) => p !== '') };
}

/**
 * The files merging commits `a` and `b` conflicts on ([] when it merges
 * cleanly), from merge-tree in the store; `agents` are whose quarantines it reads.
 */
export async function mergeConflicts(
  store: SnapshotStore,
  agents: readonly number[],
  a: string,
  b: string,
): Promise<{ files: string[]; tree: string }> {
  const args = ['merge-tree', '--write-tree', '--name-only', '--no-messages', '-z', '--allow-unrelated-histories', a, b];
  const result = await store.git.result(args, store.withAgents(agents, { batched: true }));
  if (result.exitCode !== 0 && result.exitCode !== 1) throw new GitError(args, result);
  const [tree = '', ...files] = result.stdout.split('\0').filter((field) => field !== '');
  return { tree, files: result.exitCode === 0 ? [] : files };
}

/** Each agent's snapshot, taken side by side; what was made is recorded in the cache. */
async function snapshots(
  fleet: Fleet,
  store: SnapshotStore,
  cache: RadarCache,
  agents: readonly RadarInput[],
): Promise<Map<number, string>> {
  const taken = await Promise.all(
    agents.map(async ({ facts, dirty }) => {
      const made = await takeSnapshot(fleet, store, facts, { dirty, last: cache.snapshot(facts.index) });
      if (made?.record) cache.setSnapshot(facts.index, made.record);
      return [facts.index, made?.commit ?? null] as const;
    }),
  );
  return new Map(taken.filter((entry): entry is readonly [number, string] => entry[1] !== null));
}

/**
 * Takes every agent's snapshot and finds the pairs that conflict. `reference`
 * (the primary clone's HEAD) is what pairs are compared against to skip
 * merges (see above); null skips nothing.
 */
export async function scanConflicts(
  fleet: Fleet,
  agents: readonly RadarInput[],
  options: { reference: string | null },
): Promise<RadarScan> {
  const store = snapshotStore(fleet);
  const cache = RadarCache.load(store.dir);
  const taken = await snapshots(fleet, store, cache, agents);
  const indexes = [...taken.keys()].sort((a, b) => a - b);
  const forks = new Map<number, ForkFacts | null>();
  if (options.reference !== null) {
    const reference = options.reference;
    await Promise.all(
      indexes.map(async (k) => {
        const snapshot = taken.get(k) ?? '';
        let facts = cache.fork(snapshot, reference);
        if (facts === null) {
          facts = await forkFacts(store, k, snapshot, reference);
          cache.setFork(snapshot, reference, facts);
        }
        forks.set(k, facts);
      }),
    );
  }
  const checks: Array<Promise<ConflictPair>> = [];
  for (const [i, a] of indexes.entries())
    for (const b of indexes.slice(i + 1)) {
      const sa = taken.get(a) ?? '';
      const sb = taken.get(b) ?? '';
      const fa = forks.get(a);
      const fb = forks.get(b);
      const known = sa === sb || (fa && fb && !mayConflict(fa, fb)) ? [] : cache.pair(sa, sb);
      if (known !== null) {
        checks.push(Promise.resolve({ agents: [a, b], files: known }));
        continue;
      }
      checks.push(
        mergeConflicts(store, [a, b], sa, sb).then(({ files }) => {
          cache.setPair(sa, sb, files);
          return { agents: [a, b], files };
        }),
      );
    }
  const pairs = (await Promise.all(checks)).filter((pair) => pair.files.length > 0);
  return { store, snapshots: taken, pairs, cache };
}

/** How many other agents each agent conflicts with. */
export function conflictCounts(pairs: readonly ConflictPair[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const { agents } of pairs) for (const k of agents) counts.set(k, (counts.get(k) ?? 0) + 1);
  return counts;
}

/**
 * What the radar looks at, from inspectAgents' summaries: agents 2 and up
 * whose copy reads as devkit made it and that git status could read, with
 * the primary clone's HEAD as the reference.
 */
export function radarInputs(
  summaries: readonly CopySummary[],
  facts: ReadonlyMap<number, CopyFacts>,
): { agents: RadarInput[]; reference: string | null } {
  const agents: RadarInput[] = [];
  for (const summary of summaries) {
    const read = facts.get(summary.index);
    if (summary.index < 2 || summary.condition !== 'ok' || summary.head === null || summary.dirty === null || read === undefined) continue;
    agents.push({ facts: read, dirty: summary.dirty.modified + summary.dirty.untracked > 0 });
  }
  return { agents, reference: summaries.find((s) => s.index === 1)?.head ?? null };
}
