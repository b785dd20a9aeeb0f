import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Fleet } from '../fleet/fleet.js';
import { agentName } from '../fleet/layout.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { Git, type GitCall } from '../git/git.js';
import { headCommit, type CopyFacts } from './copy.js';
import { objectFormat, quarantineObjects, snapshotTree } from './copy-git.js';

/**
 * Snapshots of agents' uncommitted work: for agent K, a commit whose tree is
 * its copy's files as `git add --all` would take them and whose parent is
 * its HEAD (a clean copy's snapshot is its HEAD). They live in devkit's own
 * store, `snapshots.git` in the state folder (no agent reaches it), which
 * borrows the shared repo's objects; git reads a copy's own commits from its
 * quarantine. A snapshot is made with a fixed author and date, so the same
 * files on the same HEAD give the same commit id: the conflict radar keys
 * what it learnt on those ids (radar-cache.ts).
 */

const SNAPSHOT_IDENTITY = {
  GIT_AUTHOR_NAME: 'devkit',
  GIT_AUTHOR_EMAIL: 'devkit@localhost',
  GIT_AUTHOR_DATE: '1000000000 +0000',
  GIT_COMMITTER_NAME: 'devkit',
  GIT_COMMITTER_EMAIL: 'devkit@localhost',
  GIT_COMMITTER_DATE: '1000000000 +0000',
};

/** devkit's snapshot store: git over it, with the quarantines of the agents a call needs. */
export interface SnapshotStore {
  dir: string;
  git: Git;
  /** A call reading the objects of agents `indexes` too (their own commits live in their quarantines). */
  withAgents(indexes: readonly number[], call?: GitCall): GitCall;
}

/** What was made last time for agent K (radar-cache.ts keeps it), so an unchanged copy costs no commit. */
export interface SnapshotRecord {
  /** The copy's index the snapshot index started from: its size and trailing checksum. */
  seed: string;
  head: string;
  tree: string;
  commit: string;
}

function storeConfig(fleet: Fleet): string {
  const format = objectFormat(fleet);
  const extensions = format === 'sha1' ? '' : `[extensions]\n\tobjectFormat = ${format}\n`;
  const version = format === 'sha1' ? 0 : 1;
  return `[core]\n\trepositoryformatversion = ${version}\n\tbare = true\n\tlogallrefupdates = false\n[gc]\n\tauto = 0\n${extensions}`;
}

/** The snapshot store, made on first use (by hand, no git: status may be the first to need it), atomically by rename. */
export function snapshotStore(fleet: Fleet): SnapshotStore {
  const dir = fleet.state.snapshotsRepo;
  if (!existsSync(path.join(dir, 'config'))) {
    const staging = mkdtempSync(path.join(fleet.state.tmpDir, 'snapshots-'));
    mkdirSync(path.join(staging, 'objects', 'info'), { recursive: true });
    mkdirSync(path.join(staging, 'refs', 'heads'), { recursive: true });
    mkdirSync(path.join(staging, 'devkit-index'), { mode: 0o700 });
    writeFileSync(path.join(staging, 'objects', 'info', 'alternates'), `${path.join(fleet.shared.gitDir, 'objects')}\n`);
    writeFileSync(path.join(staging, 'HEAD'), 'ref: refs/heads/devkit-none\n');
    writeFileSync(path.join(staging, 'config'), storeConfig(fleet));
    try {
      renameSync(staging, dir);
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      // Another devkit made it meanwhile.
      if (!existsSync(path.join(dir, 'config'))) throw error;
    }
  }
  const git = new Git(fleet.git, fleet.state.dir, [`--git-dir=${dir}`]);
  return {
    dir,
    git,
    withAgents: (indexes, call = {}) => ({
      ...call,
      env: { ...call.env, GIT_ALTERNATE_OBJECT_DIRECTORIES: indexes.map((k) => quarantineObjects(fleet, k)).join(':') },
    }),
  };
}

function seedOf(index: Buffer | null): string {
  return index === null ? 'none' : `${index.length}-${index.subarray(Math.max(0, index.length - 32)).toString('hex')}`;
}

/**
 * Agent K's snapshot: its HEAD when the copy is known clean (`dirty` false),
 * else a commit of its files on its HEAD, made through its standing view
 * from an index devkit keeps per agent (the copy's index when that changed,
 * else the one left last time: its stat data spares hashing unchanged
 * files). null for a copy with no commit. `last` is what the previous call
 * made; the record of this one is returned with it.
 */
export async function takeSnapshot(
  fleet: Fleet,
  store: SnapshotStore,
  facts: CopyFacts,
  options: { dirty: boolean | null; last: SnapshotRecord | null },
): Promise<{ commit: string; record: SnapshotRecord | null } | null> {
  const head = headCommit(facts);
  if (head === null) return null;
  if (options.dirty === false) return { commit: head, record: null };
  const seed = seedOf(facts.gitIndex);
  const kept = path.join(store.dir, 'devkit-index', agentName(facts.index));
  // A file of this call's own: two devkit runs at once must not share an index.
  const indexFile = path.join(fleet.state.tmpDir, `snapshot-${agentName(facts.index)}-${randomBytes(6).toString('hex')}.index`);
  try {
    if (options.last?.seed === seed && existsSync(kept)) copyFileSync(kept, indexFile);
    else if (facts.gitIndex !== null) writeFileSync(indexFile, facts.gitIndex, { mode: 0o600 });
    const tree = await snapshotTree(fleet, facts, { indexFile, objects: path.join(store.dir, 'objects') });
    if (existsSync(indexFile)) renameSync(indexFile, kept);
    const last = options.last;
    if (last !== null && last.head === head && last.tree === tree) return { commit: last.commit, record: { ...last, seed } };
    const message = `devkit snapshot of ${agentName(facts.index)}'s uncommitted work`;
    const commit = (
      await store.git.run(
        ['commit-tree', tree, '-p', head, '-m', message],
        store.withAgents([facts.index], { env: SNAPSHOT_IDENTITY, batched: true }),
      )
    ).trim();
    return { commit, record: { seed, head, tree, commit } };
  } finally {
    rmSync(indexFile, { force: true });
  }
}

/** Reads a JSON file devkit wrote in its state folder, or null when it is missing or unreadable. */
export function readStateJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch {
    return null;
  }
}

export function writeStateJson(file: string, value: unknown): void {
  writeFileAtomic(file, `${JSON.stringify(value)}\n`, { mode: 0o600 });
}

/** A commit-tree with devkit's fixed identity and date in the store (merges of snapshots, merge-order.ts). */
export function storeCommitCall(call: GitCall): GitCall {
  return { ...call, env: { ...call.env, ...SNAPSHOT_IDENTITY } };
}
