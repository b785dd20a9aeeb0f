import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { headCommit, readCopy, type CopyFacts } from './copy.js';
import { DevkitError } from '../errors.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentName, agentPaths } from '../fleet/layout.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { PlantedLinkError, linkOrCopyOut, listIn, openDirIn, openSafeDir, type SafeDir } from '../fs/safe.js';
import { Git, type GitResult } from '../git/git.js';
import { objectFormatOf, objectIdBytes } from '../git/repo.js';
import { indexFileFingerprint, indexFingerprint, withoutHidingFlags } from '../git/index-file.js';
import { statusArgs } from '../git/status.js';
import { debugError } from '../debug.js';
import { envMs } from '../poll.js';

/**
 * The one place devkit runs git on the host over an agent's copy. The copy's
 * own .git is the agent's (config, hooks, alternates, index extensions), so
 * git never opens it as a repository. Instead devkit builds a view: a git
 * folder of its own in its state folder, with its own config, the copy's
 * HEAD as devkit read it, a copy of the copy's index, and for objects the
 * shared store plus a quarantine of hard links to the copy's object files
 * (never the copy's objects folder itself, whose info/alternates could send
 * git anywhere). git then runs with --git-dir on the view and --work-tree on
 * the copy, with devkit's hardening (git.ts): nothing the agent wrote can run
 * a program or redirect git.
 */

const LOOSE_DIR = /^[0-9a-f]{2}$/;
const LOOSE_FILE = /^(?:[0-9a-f]{38}|[0-9a-f]{62})$/;
const PACK_FILE = /^pack-(?:[0-9a-f]{40}|[0-9a-f]{64})\.(?:pack|idx)$/;

/** The quarantine of agent K's objects: hard links (or copies) made by devkit, read by git in views. */
export function quarantineObjects(fleet: Fleet, index: number): string {
  return path.join(fleet.state.quarantineDir, agentName(index), 'objects');
}

function linkNew(dir: SafeDir, names: readonly string[], targetDir: string): void {
  mkdirSync(targetDir, { recursive: true, mode: 0o700 });
  for (const name of names) {
    const target = path.join(targetDir, name);
    if (!existsSync(target)) linkOrCopyOut(dir, name, target);
  }
}

/**
 * Brings the quarantine up to date with the copy's object files: loose
 * objects and packs, each a plain file reached without following links.
 * Nothing else of the copy's objects folder (info/alternates above all) is
 * taken. A pack is taken only with its index.
 */
export function refreshQuarantine(fleet: Fleet, index: number): void {
  const agent = agentPaths(fleet.config, index);
  const objects = openSafeDir(fleet.config.root, `${agent.rel.worktree}/.git/objects`);
  if (objects === null) return;
  const target = quarantineObjects(fleet, index);
  try {
    for (const name of listIn(objects).filter((entry) => LOOSE_DIR.test(entry))) {
      const sub = openDirIn(objects, name);
      if (sub === null) continue;
      try {
        linkNew(
          sub,
          listIn(sub).filter((entry) => LOOSE_FILE.test(entry)),
          path.join(target, name),
        );
      } finally {
        sub.close();
      }
    }
    const packs = openDirIn(objects, 'pack');
    if (packs !== null) {
      try {
        const names = listIn(packs).filter((entry) => PACK_FILE.test(entry));
        const complete = names.filter((entry) => entry.endsWith('.pack') && names.includes(entry.replace(/\.pack$/, '.idx')));
        linkNew(
          packs,
          complete.flatMap((pack) => [pack.replace(/\.pack$/, '.idx'), pack]),
          path.join(target, 'pack'),
        );
      } finally {
        packs.close();
      }
    }
  } catch (error) {
    if (error instanceof PlantedLinkError) throw new DevkitError(`${agent.name}'s copy: ${error.message}`, { cause: error });
    throw error;
  } finally {
    objects.close();
  }
}

/** Which of the copy's parts the view takes. */
export interface ViewOptions {
  /** The commit the view's HEAD names (the copy's HEAD, as devkit read it); null for none. */
  head: string | null;
  /** Take the copy's index (staged state), its stat data forgotten so git reads every file; else the view starts with none. */
  withIndex: boolean;
  /** Also read the copy's own objects (through the quarantine). */
  withObjects: boolean;
  /** Refs to give the view, full name to commit (what a fetch from it brings). */
  refs?: ReadonlyMap<string, string>;
}

export interface CopyView {
  /** The view's git folder (devkit's). */
  gitDir: string;
  /** git over the copy's files through the view. */
  git: Git;
}

function viewConfig(objectFormat: string): string {
  const format = objectFormat === 'sha1' ? '' : `[extensions]\n\tobjectFormat = ${objectFormat}\n`;
  return `# a devkit view of an agent's copy; devkit's own config, never the agent's\n[core]\n\trepositoryformatversion = ${
    format === '' ? 0 : 1
  }\n\tbare = false\n\tfilemode = true\n\tlogallrefupdates = false\n${format}`;
}

/**
 * How long git over an agent's copy may run: the agent controls what it
 * reads (an index entry can make git hash an 8 TiB sparse file). A status
 * gets DEVKIT_STATUS_TIMEOUT_MS (60 s); the rest (a backup of every file)
 * DEVKIT_COPY_GIT_TIMEOUT_MS (10 min). Past that, git is killed and the
 * command says so.
 */
export function copyGitTimeoutMs(env: NodeJS.ProcessEnv, kind: 'status' | 'work'): number {
  return kind === 'status' ? envMs(env, 'DEVKIT_STATUS_TIMEOUT_MS', 60_000) : envMs(env, 'DEVKIT_COPY_GIT_TIMEOUT_MS', 600_000);
}

/**
 * Writes the copy's index into a view's git folder, as readCopy read and
 * checked it (see CopyFacts.gitIndex): git reads devkit's file, which the agent
 * cannot change after the check. No index file when the copy has none. With
 * `forgetStat` git reads every file instead of trusting the agent's stat data
 * (withoutHidingFlags): what removal decides on is never what the agent says.
 */
function takeIndex(fleet: Fleet, facts: CopyFacts, target: string, forgetStat: boolean): void {
  if (facts.gitIndex === null) {
    rmSync(target, { force: true });
    return;
  }
  const bytes = forgetStat ? withoutHidingFlags(facts.gitIndex, objectIdBytes(fleet.shared.gitDir), { forgetStat }) : facts.gitIndex;
  // Same size and checksum (an index ends with the hash of all before it): the file holds these bytes already.
  if (indexFileFingerprint(target) !== indexFingerprint(bytes)) writeFileSync(target, bytes, { mode: 0o600 });
}

/**
 * Runs `body` with a view of agent K's copy (see above), removed afterwards.
 * The copy must have passed readCopy's checks: nothing is ever read through a
 * copy that did not link up as devkit made it, except its plain files.
 */
export async function withCopyView<T>(
  fleet: Fleet,
  facts: CopyFacts,
  options: ViewOptions,
  body: (view: CopyView) => Promise<T>,
): Promise<T> {
  if (facts.state !== 'ok' && (options.withIndex || options.withObjects)) {
    throw new DevkitError(
      `${agentName(facts.index)}'s copy is ${facts.state}${facts.problems.length > 0 ? ` (${facts.problems.join('; ')})` : ''}: ` +
        'devkit reads no git data through it',
    );
  }
  const agent = agentPaths(fleet.config, facts.index);
  const gitDir = mkdtempSync(path.join(fleet.state.tmpDir, `view-${agent.name}-`));
  try {
    mkdirSync(path.join(gitDir, 'objects', 'info'), { recursive: true });
    mkdirSync(path.join(gitDir, 'refs', 'heads'), { recursive: true });
    if (options.withObjects) refreshQuarantine(fleet, facts.index);
    const alternates = [...(options.withObjects ? [quarantineObjects(fleet, facts.index)] : []), path.join(fleet.shared.gitDir, 'objects')];
    writeFileSync(path.join(gitDir, 'objects', 'info', 'alternates'), `${alternates.join('\n')}\n`);
    writeFileSync(path.join(gitDir, 'config'), viewConfig(objectFormat(fleet)));
    // With no commit, HEAD names a branch that does not exist: an unborn repository.
    writeFileSync(path.join(gitDir, 'HEAD'), options.head === null ? 'ref: refs/heads/devkit-none\n' : `${options.head}\n`);
    // The header promises sorted refs (byte order), and git binary-searches on that promise.
    const packed = [...(options.refs ?? [])]
      .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
      .map(([name, id]) => `${id} ${name}\n`)
      .join('');
    writeFileSync(path.join(gitDir, 'packed-refs'), `# pack-refs with: peeled fully-peeled sorted \n${packed}`);
    if (options.withIndex) takeIndex(fleet, facts, path.join(gitDir, 'index'), true);
    const git = new Git(fleet.git, agent.worktree, [`--git-dir=${gitDir}`, `--work-tree=${agent.worktree}`], {
      timeoutMs: copyGitTimeoutMs(fleet.env, 'work'),
    });
    return await body({ gitDir, git });
  } finally {
    rmSync(gitDir, { recursive: true, force: true });
  }
}

/** What copyStatus asks of one copy. */
export interface StatusRequest {
  facts: CopyFacts;
  head: string | null;
  /** Also read the copy's own objects (through its quarantine): its HEAD is not in the shared store. */
  withObjects: boolean;
}

/**
 * `git status` of a copy (porcelain, every untracked file), through the
 * agent's standing view: a git folder of devkit's per agent, made once
 * (config, alternates), whose HEAD is set to the copy's HEAD commit and whose
 * index is the copy's as readCopy checked it. No folder made per call, and
 * the git is started at once through the shell running its neighbours'
 * (process-batch.ts): status and list run this for every agent on every
 * call. A copy that cannot be read at all gives null.
 */
export function copyStatus(fleet: Fleet, { facts, head, withObjects }: StatusRequest): Promise<GitResult | null> {
  try {
    if (facts.state !== 'ok')
      throw new DevkitError(`${agentName(facts.index)}'s copy is ${facts.state}: devkit reads no git data through it`);
    const agent = agentPaths(fleet.config, facts.index);
    const view = standingView(fleet, facts.index);
    if (withObjects) refreshQuarantine(fleet, facts.index);
    pointHead(view, head);
    takeIndex(fleet, facts, path.join(view, 'index'), false);
    const git = new Git(fleet.git, agent.worktree, [`--git-dir=${view}`, `--work-tree=${agent.worktree}`]);
    return git.result(statusArgs(false), { batched: true, timeoutMs: copyGitTimeoutMs(fleet.env, 'status') });
  } catch (error) {
    debugError(`status of ${agentName(facts.index)}'s copy`, error);
    return Promise.resolve(null);
  }
}

/** Where snapshotTree writes: an index file of devkit's and an object store of devkit's, outliving the view. */
export interface SnapshotTarget {
  /** The index git reads and updates (GIT_INDEX_FILE): devkit's own file, never the copy's. */
  indexFile: string;
  /** The object folder new objects go to (GIT_OBJECT_DIRECTORY); its info/alternates names the shared store. */
  objects: string;
  /**
   * The tree `indexFile` gave when it was last written, and the file's
   * fingerprint then: when `git add` leaves the file as it was (git writes an
   * index only when something in it changed), that is still its tree.
   */
  known?: { fingerprint: string; tree: string };
}

/** A snapshot tree and the fingerprint of the index it was written from. */
export interface SnapshotTree {
  tree: string;
  fingerprint: string | null;
}

/**
 * The tree of agent K's files as `git add --all` would take them (tracked
 * and untracked, not ignored), through its standing view: git reads the copy's
 * files as data, starting from `indexFile` (whose stat data lets it hash only
 * files that changed), and writes the blobs and trees into `objects`, so they
 * outlive the view. The copy's own objects are read from its quarantine.
 */
export async function snapshotTree(fleet: Fleet, facts: CopyFacts, target: SnapshotTarget): Promise<SnapshotTree> {
  if (facts.state !== 'ok')
    throw new DevkitError(`${agentName(facts.index)}'s copy is ${facts.state}: devkit reads no git data through it`);
  const agent = agentPaths(fleet.config, facts.index);
  const view = standingView(fleet, facts.index);
  pointHead(view, headCommit(facts));
  const git = new Git(fleet.git, agent.worktree, [`--git-dir=${view}`, `--work-tree=${agent.worktree}`], {
    timeoutMs: copyGitTimeoutMs(fleet.env, 'status'),
  });
  const env = {
    GIT_INDEX_FILE: target.indexFile,
    GIT_OBJECT_DIRECTORY: target.objects,
    GIT_ALTERNATE_OBJECT_DIRECTORIES: quarantineObjects(fleet, facts.index),
  };
  await git.run(['add', '--all', '--', '.'], { env, batched: true });
  const added = indexFileFingerprint(target.indexFile);
  if (target.known !== undefined && added === target.known.fingerprint) return { tree: target.known.tree, fingerprint: added };
  const written = await git.result(['write-tree'], { env, batched: true });
  let tree = written.stdout;
  if (written.exitCode !== 0) {
    // The index names blobs of a commit the agent made since its quarantine was last brought up to date.
    refreshQuarantine(fleet, facts.index);
    tree = await git.run(['write-tree'], { env, batched: true });
  }
  // write-tree keeps what it learnt in the index (its cache tree): the fingerprint is the file's after that.
  return { tree: tree.trim(), fingerprint: indexFileFingerprint(target.indexFile) };
}

/** Sets a standing view's HEAD to the copy's HEAD commit as devkit read it (an unborn branch for none). */
function pointHead(view: string, head: string | null): void {
  const headText = head === null ? 'ref: refs/heads/devkit-none\n' : `${head}\n`;
  const headFile = path.join(view, 'HEAD');
  if (!existsSync(headFile) || readFileSync(headFile, 'utf8') !== headText) writeFileAtomic(headFile, headText);
}

function standingViewDir(fleet: Fleet, index: number): string {
  return path.join(fleet.state.dir, 'views', agentName(index));
}

/**
 * The index in agent K's standing view: bytes readCopy checked and devkit
 * wrote there itself (see ReadCopyOptions), or null when there is none.
 */
export function checkedIndexOf(fleet: Fleet, index: number): Buffer | null {
  try {
    return readFileSync(path.join(standingViewDir(fleet, index), 'index'));
  } catch {
    return null;
  }
}

/** Agent K's standing view (see copyStatus), made on first use. */
function standingView(fleet: Fleet, index: number): string {
  const dir = standingViewDir(fleet, index);
  const config = viewConfig(objectFormat(fleet));
  const alternates = `${quarantineObjects(fleet, index)}\n${path.join(fleet.shared.gitDir, 'objects')}\n`;
  const ready = path.join(dir, 'config');
  if (
    existsSync(ready) &&
    readFileSync(ready, 'utf8') === config &&
    readFileSync(path.join(dir, 'objects', 'info', 'alternates'), 'utf8') === alternates
  )
    return dir;
  mkdirSync(path.join(dir, 'objects', 'info'), { recursive: true, mode: 0o700 });
  mkdirSync(path.join(dir, 'refs', 'heads'), { recursive: true });
  mkdirSync(quarantineObjects(fleet, index), { recursive: true, mode: 0o700 });
  writeFileAtomic(path.join(dir, 'objects', 'info', 'alternates'), alternates);
  writeFileAtomic(ready, config);
  return dir;
}

/** Reads the copy and runs `body` with a view of it (for callers that have no facts yet). */
export async function withFreshCopyView<T>(
  fleet: Fleet,
  index: number,
  options: Omit<ViewOptions, 'head'>,
  body: (view: CopyView, facts: CopyFacts) => Promise<T>,
): Promise<T> {
  const facts = readCopy(fleet.config, fleet.shared.gitDir, index);
  return withCopyView(fleet, facts, { ...options, head: headCommit(facts) }, (view) => body(view, facts));
}

/** The shared repo's object format (see git/repo.ts). */
export function objectFormat(fleet: Fleet): 'sha1' | 'sha256' {
  return objectFormatOf(fleet.shared.gitDir);
}
