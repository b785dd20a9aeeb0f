import { closeSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { headCommit, readCopy, type CopyFacts } from './copy.js';
import { DevkitError } from '../errors.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentName, agentPaths } from '../fleet/layout.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { PlantedLinkError, linkOrCopyOut, listIn, openDirIn, openFileIn, openSafeDir, readFileIn, type SafeDir } from '../fs/safe.js';
import { Git, type GitResult } from '../git/git.js';
import { statusArgs } from '../git/status.js';

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
  /** Take a copy of the copy's index (staged state); else the view starts with none. */
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

/** Copies the copy's index into the view (a plain file, read without following links), if it has one. */
function takeIndex(fleet: Fleet, index: number, target: string): void {
  const agent = agentPaths(fleet.config, index);
  const git = openSafeDir(fleet.config.root, `${agent.rel.worktree}/.git`);
  if (git === null) return;
  try {
    const bytes = readFileIn(git, 'index', 1024 * 1024 * 1024);
    if (bytes !== null) writeFileSync(target, bytes, { mode: 0o600 });
  } finally {
    git.close();
  }
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
    if (options.withIndex) takeIndex(fleet, facts.index, path.join(gitDir, 'index'));
    const git = new Git(fleet.git, agent.worktree, [`--git-dir=${gitDir}`, `--work-tree=${agent.worktree}`]);
    return await body({ gitDir, git });
  } finally {
    rmSync(gitDir, { recursive: true, force: true });
  }
}

/** What copyStatuses asks of one copy. */
export interface StatusRequest {
  facts: CopyFacts;
  head: string | null;
  /** Also read the copy's own objects (through its quarantine): its HEAD is not in the shared store. */
  withObjects: boolean;
}

/**
 * `git status` of copies (porcelain, every untracked file), through each
 * agent's standing view: a git folder of devkit's per agent, made once
 * (config, alternates), whose HEAD is set to the copy's HEAD commit, with the
 * copy's index read in place through a descriptor devkit opened without
 * following links (GIT_INDEX_FILE on /proc). No copy of the index, no folder
 * made per call, and one process starting the gits: status and list run
 * this for every agent on every call. A copy that cannot be read gives null.
 */
export async function copyStatuses(fleet: Fleet, requests: readonly StatusRequest[]): Promise<Array<string | null>> {
  const opened: number[] = [];
  try {
    const calls: Array<Promise<GitResult>> = [];
    for (const { facts, head, withObjects } of requests) {
      if (facts.state !== 'ok')
        throw new DevkitError(`${agentName(facts.index)}'s copy is ${facts.state}: devkit reads no git data through it`);
      const agent = agentPaths(fleet.config, facts.index);
      const view = standingView(fleet, facts.index);
      if (withObjects) refreshQuarantine(fleet, facts.index);
      const headText = head === null ? 'ref: refs/heads/devkit-none\n' : `${head}\n`;
      const headFile = path.join(view, 'HEAD');
      if (!existsSync(headFile) || readFileSync(headFile, 'utf8') !== headText) writeFileAtomic(headFile, headText);
      const dotGit = openSafeDir(fleet.config.root, `${agent.rel.worktree}/.git`);
      const indexFd = dotGit === null ? null : openFileIn(dotGit, 'index');
      dotGit?.close();
      if (indexFd !== null) opened.push(indexFd);
      const index = indexFd === null ? path.join(view, 'no-index') : `/proc/${process.pid}/fd/${indexFd}`;
      const git = new Git(fleet.git, agent.worktree, [`--git-dir=${view}`, `--work-tree=${agent.worktree}`]);
      calls.push(git.result(statusArgs(false), { env: { GIT_INDEX_FILE: index }, batched: true }));
    }
    const results = await Promise.all(calls);
    return results.map((result) => (result.exitCode === 0 ? result.stdout : null));
  } finally {
    for (const fd of opened) closeSync(fd);
  }
}

/** Agent K's standing view (see copyStatuses), made on first use. */
function standingView(fleet: Fleet, index: number): string {
  const dir = path.join(fleet.state.dir, 'views', agentName(index));
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

/**
 * The shared repo's object format: sha256 when its config says so, else sha1.
 * Read from the config file (devkit's to trust: no container can write it),
 * not by a git process: status asks for it on every call.
 */
export function objectFormat(fleet: Fleet): string {
  const config = readFileSync(path.join(fleet.shared.gitDir, 'config'), 'utf8');
  return /^\s*objectformat\s*=\s*sha256\s*$/im.test(config) ? 'sha256' : 'sha1';
}
