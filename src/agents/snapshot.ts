import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Fleet } from '../fleet/fleet.js';
import { agentName } from '../fleet/layout.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { errno } from '../fs/safe.js';
import { Git, type GitCall } from '../git/git.js';
import { indexFingerprint } from '../git/index-file.js';
import { writeCommit } from '../git/loose-object.js';
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

const SNAPSHOT_IDENTITY = 'devkit <devkit@localhost> 1000000000 +0000';

/** devkit's snapshot store: git over it, with the quarantines of the agents a call needs. */
export interface SnapshotStore {
  dir: string;
  git: Git;
  /** Its object format: the shared repo's. */
  format: 'sha1' | 'sha256';
  /** A call reading the objects of agents `indexes` too (their own commits live in their quarantines). */
  withAgents(indexes: readonly number[], call?: GitCall): GitCall;
  /** Agent K's objects are in `objects` instead of a quarantine (a remote agent's synced snapshot is in backups.git). */
  readFrom(index: number, objects: string): void;
}

/** What was made last time for agent K (radar-cache.ts keeps it), so an unchanged copy costs no commit. */
export interface SnapshotRecord {
  /** The copy's index the snapshot index started from: its size and trailing checksum. */
  seed: string;
  head: string;
  tree: string;
  commit: string;
  /** The tree of `head`, once looked up (a snapshot with that tree is `head` itself). */
  headTree?: string;
  /** The fingerprint of the index devkit kept for the agent, as that `tree` was written from it. */
  kept?: string | null;
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
  const elsewhere = new Map<number, string>();
  const objectsOf = (k: number): string => elsewhere.get(k) ?? quarantineObjects(fleet, k);
  return {
    dir,
    git,
    format: objectFormat(fleet),
    withAgents: (indexes, call = {}) => ({
      ...call,
      env: { ...call.env, GIT_ALTERNATE_OBJECT_DIRECTORIES: [...new Set(indexes.map(objectsOf))].join(':') },
    }),
    readFrom: (index, objects) => elsewhere.set(index, objects),
  };
}

function seedOf(index: Buffer | null): string {
  return index === null ? 'none' : indexFingerprint(index);
}

/** How takeSnapshot knows whether a copy is clean. */
export interface SnapshotOptions {
  /** false: git status found nothing to commit (the snapshot is HEAD); true or null: its files are taken. */
  dirty: boolean | null;
  /** What the previous call made (radar-cache.ts keeps it). */
  last: SnapshotRecord | null;
  /**
   * The tree of the copy's HEAD (null when it cannot be read): files that
   * make that tree are a clean copy, whose snapshot is HEAD. Asked only when
   * `last` does not know it; without it, taken files always make a commit.
   */
  headTree?: (head: string) => Promise<string | null>;
}

/**
 * Agent K's snapshot: its HEAD when the copy is clean, else a commit of its
 * files on its HEAD, made through its standing view from an index devkit
 * keeps per agent (the copy's index when that changed, else the one left
 * last time: its stat data spares hashing unchanged files). null for a copy
 * with no commit, or whose HEAD cannot be read. The record of this call is
 * returned with it.
 */
export async function takeSnapshot(
  fleet: Fleet,
  store: SnapshotStore,
  facts: CopyFacts,
  options: SnapshotOptions,
): Promise<{ commit: string; record: SnapshotRecord | null } | null> {
  const head = headCommit(facts);
  if (head === null) return null;
  if (options.dirty === false) return { commit: head, record: null };
  const seed = seedOf(facts.gitIndex);
  const kept = path.join(store.dir, 'devkit-index', agentName(facts.index));
  // A file of this call's own: two devkit runs at once must not share an index.
  const indexFile = path.join(fleet.state.tmpDir, `snapshot-${agentName(facts.index)}-${randomBytes(6).toString('hex')}.index`);
  try {
    // The index kept last time, and what it gave then: git hashes only files changed since, and writes no tree when none did.
    const resumed = options.last?.seed === seed && existsSync(kept);
    if (resumed) linkOrCopy(kept, indexFile);
    else if (facts.gitIndex !== null) writeFileSync(indexFile, facts.gitIndex, { mode: 0o600 });
    const last = options.last;
    const known = resumed && typeof last?.kept === 'string' ? { fingerprint: last.kept, tree: last.tree } : undefined;
    const { tree, fingerprint } = await snapshotTree(fleet, facts, {
      indexFile,
      objects: path.join(store.dir, 'objects'),
      ...(known && { known }),
    });
    if (existsSync(indexFile)) keepIndex(indexFile, kept);
    const sameHead = last?.head === head ? last : null;
    if (sameHead && sameHead.tree === tree) return { commit: sameHead.commit, record: { ...sameHead, seed, kept: fingerprint } };
    const headTree = sameHead?.headTree ?? (options.headTree === undefined ? undefined : await options.headTree(head));
    if (headTree === null) return null;
    const headTreeKnown = headTree === undefined ? {} : { headTree };
    const made = { seed, head, tree, ...headTreeKnown, kept: fingerprint };
    if (tree === headTree) return { commit: head, record: { ...made, commit: head } };
    const commit = storeCommit(store, tree, [head], `devkit snapshot of ${agentName(facts.index)}'s uncommitted work`);
    return { commit, record: { ...made, commit } };
  } finally {
    rmSync(indexFile, { force: true });
  }
}

/** Renames `from` to the kept index `to`; its folder, made with the store, is made again if it went. */
function keepIndex(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if (errno(error) !== 'ENOENT') throw error;
    mkdirSync(path.dirname(to), { recursive: true, mode: 0o700 });
    renameSync(from, to);
  }
}

/**
 * `to` as a second name of `from` (a copy where links cannot be made): git
 * writes an index by renaming a new file over it, so the file `from` names
 * is never changed through `to`.
 */
function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
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

/**
 * A commit in the store with devkit's fixed identity and date, written by
 * devkit itself (loose-object.ts): snapshots, and merges of them (merge-order.ts).
 */
export function storeCommit(store: SnapshotStore, tree: string, parents: readonly string[], message: string): string {
  return writeCommit(path.join(store.dir, 'objects'), store.format, { tree, parents, identity: SNAPSHOT_IDENTITY, message });
}
