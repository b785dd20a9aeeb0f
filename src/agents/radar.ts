import path from 'node:path';
import { DevkitError } from '../errors.js';
import { GitError, lines } from '../git/git.js';
import { OBJECT_ID } from '../git/refs.js';
import type { Fleet } from '../fleet/fleet.js';
import { debugError } from '../debug.js';
import { agentName } from '../fleet/layout.js';
import { headCommit, type CopyFacts } from './copy.js';
import { refreshQuarantine } from './copy-git.js';
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
 * HEAD), share no commit past F (so F is their one merge base), and what
 * each changed since F cannot meet: no path is changed by both, no path one
 * changed is a folder of a path the other changed, and no folder holding a
 * path one side deleted holds a path the other changed. Every conflict
 * merge-ort reports involves a path both sides touched (content, add/add,
 * modify/delete; renames through both sides of the rename, diffed with
 * --no-renames), a path one side has as a file and the other as a folder, or
 * a directory rename: the renaming side deleted every path of the source
 * folder, into which the other side added.
 * Any other pair is merged; results are kept by snapshot ids (radar-cache.ts).
 */

export interface ConflictPair {
  agents: [number, number];
  files: string[];
}

/** An agent the radar looks at: its copy as read, and whether `git status` found it clean. */
export interface CopyRadarInput {
  facts: CopyFacts;
  /** false when git status found nothing to commit (its snapshot is its HEAD); null when not known. */
  dirty: boolean | null;
}

/** A remote agent, by the snapshot its sync brought home (remote-sync.ts): a commit in devkit's backups repo. */
export interface SyncedRadarInput {
  index: number;
  snapshot: string;
}

export type RadarInput = CopyRadarInput | SyncedRadarInput;

export interface RadarScan {
  store: SnapshotStore;
  /** Each agent's snapshot commit (agents with no commit are left out). */
  snapshots: Map<number, string>;
  /** The pairs that conflict, in agent order. */
  pairs: ConflictPair[];
  cache: RadarCache;
  /** Where each snapshot stands against the reference (none when there is no reference). */
  forks: ReadonlyMap<number, ForkFacts>;
}

const MAX_FORK_COMMITS = 2000;

/** Every folder above `file` ("a/b/c" -> "a", "a/b"); the top of the tree is no folder anyone adds to. */
function folders(file: string): string[] {
  const parts = file.split('/');
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

/** True when a path `b` changed meets what `a` changed: the same path, a file against a folder, or a folder `a` deleted in. */
function meets(a: ForkFacts, b: ForkFacts): boolean {
  const paths = new Set(a.paths);
  const above = new Set(a.paths.flatMap(folders));
  const deletedIn = new Set(a.deleted.flatMap(folders));
  return b.paths.some((p) => paths.has(p) || above.has(p) || folders(p).some((f) => paths.has(f) || deletedIn.has(f)));
}

/** True when the two fork from the same commit and share no commit past it: that commit is their one merge base. */
export function forkApart(a: ForkFacts, b: ForkFacts): boolean {
  if (a.fork === null || a.fork !== b.fork || a.commits === null || b.commits === null) return false;
  const aCommits = new Set(a.commits);
  return !b.commits.some((c) => aCommits.has(c));
}

/** False only when merging the two cannot conflict (see above). */
export function mayConflict(a: ForkFacts, b: ForkFacts): boolean {
  return !forkApart(a, b) || meets(a, b) || meets(b, a);
}

const UNRELATED: ForkFacts = { fork: null, commits: null, paths: [], deleted: [] };

/**
 * The fork of each snapshot from `reference` and the commits past it, from
 * one rev-list of them all: a snapshot's commits are those it reaches in the
 * listing, and its fork is the one commit they lead out of the listing to
 * (every common ancestor is at or behind it). No such commit (no common
 * history) or more than one (left to merge-tree) gives no fork.
 */
async function forksOf(
  store: SnapshotStore,
  snapshots: ReadonlyMap<number, string>,
  reference: string,
): Promise<Map<number, Pick<ForkFacts, 'fork' | 'commits'>>> {
  const limit = MAX_FORK_COMMITS * snapshots.size;
  const listed = await store.git.run(
    ['rev-list', '--parents', `--max-count=${limit + 1}`, ...snapshots.values(), `^${reference}`, '--'],
    store.withAgents([...snapshots.keys()], { batched: true }),
  );
  const graph = new Map(lines(listed).map((line) => [line.split(' ')[0] ?? '', line.split(' ').slice(1)]));
  const forks = new Map<number, Pick<ForkFacts, 'fork' | 'commits'>>();
  for (const [k, snapshot] of snapshots) {
    if (graph.size > limit) forks.set(k, UNRELATED);
    else if (!graph.has(snapshot))
      forks.set(k, { fork: snapshot, commits: [] }); // the reference holds it
    else {
      const commits = new Set<string>();
      const out = new Set<string>();
      const todo = [snapshot];
      for (let c = todo.pop(); c !== undefined; c = todo.pop()) {
        const parents = graph.get(c);
        if (parents === undefined) out.add(c);
        else if (!commits.has(c)) {
          commits.add(c);
          todo.push(...parents);
        }
      }
      const [fork] = out;
      forks.set(
        k,
        out.size !== 1 || fork === undefined ? UNRELATED : { fork, commits: commits.size > MAX_FORK_COMMITS ? null : [...commits] },
      );
    }
  }
  return forks;
}

/** Where each snapshot stands against reference R: two gits for them all (rev-list, then one diff-tree of each fork and snapshot). */
async function forkFacts(store: SnapshotStore, snapshots: ReadonlyMap<number, string>, reference: string): Promise<Map<number, ForkFacts>> {
  const forks = await forksOf(store, snapshots, reference);
  const diffed = [...snapshots].flatMap(([k, snapshot]) => {
    const fork = forks.get(k)?.fork;
    return fork === null || fork === undefined || fork === snapshot ? [] : [{ k, fork, snapshot }];
  });
  const changes = new Map<number, Pick<ForkFacts, 'paths' | 'deleted'>>();
  if (diffed.length > 0) {
    // --always: one line of output per pair asked (the fork's id), then its changes, `status NUL path NUL` each.
    const out = await store.git.run(
      ['diff-tree', '--stdin', '-r', '--always', '--name-status', '--no-renames', '-z'],
      store.withAgents(
        diffed.map((d) => d.k),
        { input: diffed.map((d) => `${d.fork} ${d.snapshot}\n`).join('') },
      ),
    );
    const fields = out.split('\0');
    let current: Pick<ForkFacts, 'paths' | 'deleted'> | null = null;
    let pair = 0;
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i] ?? '';
      if (OBJECT_ID.test(field)) {
        current = { paths: [], deleted: [] };
        changes.set(diffed[pair++]?.k ?? -1, current);
      } else if (field !== '' && current !== null) {
        const file = fields[++i] ?? '';
        current.paths.push(file);
        if (field === 'D') current.deleted.push(file);
      }
    }
    // A pair with no answer would read as changing nothing: never guess it clean.
    if (pair !== diffed.length) throw new DevkitError(`git diff-tree answered ${pair} of ${diffed.length} pairs of the radar`);
  }
  return new Map(
    [...snapshots.keys()].map((k) => [k, { ...(forks.get(k) ?? UNRELATED), ...(changes.get(k) ?? { paths: [], deleted: [] }) }]),
  );
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

/** Brings agent K's quarantine up to date; false when its copy refuses (a planted link), said with DEVKIT_DEBUG. */
function refreshed(fleet: Fleet, index: number): boolean {
  try {
    refreshQuarantine(fleet, index);
    return true;
  } catch (error) {
    debugError(`the objects of ${agentName(index)}'s copy`, error);
    return false;
  }
}

/**
 * The trees of commits `heads` (null for one that cannot be read), from one
 * rev-parse in the store. A commit in neither the shared store nor its
 * agent's quarantine (one made since the quarantine was last brought up to
 * date) is asked for again with the quarantines refreshed; if one is still
 * missing, each is asked alone.
 */
async function treesOf(fleet: Fleet, store: SnapshotStore, heads: ReadonlyMap<number, string>): Promise<Map<number, string | null>> {
  const ask = async (agents: ReadonlyMap<number, string>): Promise<Map<number, string> | null> => {
    if (agents.size === 0) return new Map();
    // Commit ids as readCopy checked them: nothing rev-parse could take for an option.
    const args = ['rev-parse', ...[...agents.values()].map((head) => `${head}^{tree}`)];
    const result = await store.git.result(args, store.withAgents([...agents.keys()], { batched: true }));
    const trees = lines(result.stdout);
    if (result.exitCode !== 0 || trees.length !== agents.size) return null;
    return new Map([...agents.keys()].map((k, i) => [k, trees[i] ?? '']));
  };
  const answer = (found: ReadonlyMap<number, string>): Map<number, string | null> =>
    new Map([...heads.keys()].map((k) => [k, found.get(k) ?? null]));
  const first = await ask(heads);
  if (first !== null) return answer(first);
  const readable = new Map([...heads].filter(([k]) => refreshed(fleet, k)));
  const again = await ask(readable);
  if (again !== null) return answer(again);
  const alone = await Promise.all([...readable].map(async ([k, head]) => (await ask(new Map([[k, head]]))) ?? new Map<number, string>()));
  return answer(new Map(alone.flatMap((found) => [...found])));
}

/**
 * One look of the radar: its store and cache, and each agent's snapshot,
 * started as soon as its copy is read (`take`). A copy whose cleanliness is
 * not known is compared with its HEAD's tree, looked up for all of them at
 * once when the first needs it (every copy is read by then).
 */
export class RadarLook {
  readonly store: SnapshotStore;
  readonly cache: RadarCache;
  private readonly taken = new Map<number, Promise<string | null>>();
  private readonly heads = new Map<number, string>();
  private headTrees: Promise<Map<number, string | null>> | null = null;

  constructor(private readonly fleet: Fleet) {
    this.store = snapshotStore(fleet);
    this.cache = RadarCache.load(this.store.dir);
  }

  /** Starts agent K's snapshot; `dirty` as git status found the copy (null: not asked). A copy that cannot be read is left out. */
  take(facts: CopyFacts, dirty: boolean | null): void {
    const head = headCommit(facts);
    if (head !== null) this.heads.set(facts.index, head);
    const headTree = async (): Promise<string | null> => {
      this.headTrees ??= treesOf(this.fleet, this.store, this.heads);
      return (await this.headTrees).get(facts.index) ?? null;
    };
    this.taken.set(
      facts.index,
      takeSnapshot(this.fleet, this.store, facts, { dirty, last: this.cache.snapshot(facts.index), headTree }).then(
        (made) => {
          if (made?.record) this.cache.setSnapshot(facts.index, made.record);
          return made?.commit ?? null;
        },
        (error: unknown) => {
          debugError(`the snapshot of ${agentName(facts.index)}'s copy`, error);
          return null;
        },
      ),
    );
  }

  /** Takes a remote agent's snapshot as its sync made it, with the objects of devkit's backups repo. */
  takeSynced({ index, snapshot }: SyncedRadarInput): void {
    this.store.readFrom(index, path.join(this.fleet.state.backupsRepo, 'objects'));
    this.taken.set(index, Promise.resolve(snapshot));
  }

  /** The snapshot of each agent taken (those with none left out). */
  async snapshots(): Promise<Map<number, string>> {
    const taken = await Promise.all([...this.taken].map(async ([k, snapshot]) => [k, await snapshot] as const));
    return new Map(taken.filter((entry): entry is readonly [number, string] => entry[1] !== null));
  }

  /**
   * Finds the pairs of the agents taken that conflict. `reference` (the
   * primary clone's HEAD) is what pairs are compared against to skip merges
   * (see above); null skips nothing.
   */
  async scan(options: { reference: string | null }): Promise<RadarScan> {
    const { store, cache } = this;
    const taken = await this.snapshots();
    const indexes = [...taken.keys()].sort((a, b) => a - b);
    const forks = new Map<number, ForkFacts>();
    if (options.reference !== null) {
      const reference = options.reference;
      const unknown = new Map<number, string>();
      for (const k of indexes) {
        const known = cache.fork(taken.get(k) ?? '', reference);
        if (known === null) unknown.set(k, taken.get(k) ?? '');
        else forks.set(k, known);
      }
      if (unknown.size > 0)
        for (const [k, facts] of await forkFacts(store, unknown, reference)) {
          cache.setFork(unknown.get(k) ?? '', reference, facts);
          forks.set(k, facts);
        }
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
    return { store, snapshots: taken, pairs, cache, forks };
  }
}

/** Takes every agent's snapshot and finds the pairs that conflict (see RadarLook.scan). */
export async function scanConflicts(
  fleet: Fleet,
  agents: readonly RadarInput[],
  options: { reference: string | null },
): Promise<RadarScan> {
  const look = new RadarLook(fleet);
  for (const agent of agents) {
    if ('snapshot' in agent) look.takeSynced(agent);
    else look.take(agent.facts, agent.dirty);
  }
  return look.scan(options);
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
  synced: ReadonlyMap<number, string> = new Map(),
): { agents: RadarInput[]; reference: string | null } {
  const agents: RadarInput[] = [];
  for (const summary of summaries) {
    const snapshot = synced.get(summary.index);
    if (summary.engine !== null && snapshot !== undefined && summary.problems.length === 0) {
      agents.push({ index: summary.index, snapshot });
      continue;
    }
    const read = facts.get(summary.index);
    if (summary.index < 2 || summary.condition !== 'ok' || summary.head === null || summary.dirty === null || read === undefined) continue;
    agents.push({ facts: read, dirty: summary.dirty.modified + summary.dirty.untracked > 0 });
  }
  return { agents, reference: summaries.find((s) => s.index === 1)?.head ?? null };
}
