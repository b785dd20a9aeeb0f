import { readlinkSync } from 'node:fs';
import path from 'node:path';
import type { DevkitConfig } from '../config/config.js';
import { agentPaths } from '../fleet/layout.js';
import {
  PlantedLinkError,
  listIn,
  lstatIn,
  openDirIn,
  openTrustedDir,
  pinnedPath,
  readFileIn,
  readTextIn,
  type SafeDir,
} from '../fs/safe.js';
import { IndexFormatError, checkIndex, withoutHidingFlags } from '../git/index-file.js';
import { objectIdBytes } from '../git/repo.js';
import { OBJECT_ID, isValidRefName, parseHead, parseLooseRef, parsePackedRefs, type HeadRef } from '../git/refs.js';

/**
 * An agent's copy (K >= 2) read as data: its own repository, whose objects
 * borrow the shared store. devkit never runs git in it as a repository (its
 * config and hooks are the agent's); it checks that the copy still links up
 * as devkit made it, and reads its HEAD and branches itself.
 */
export type CopyState = 'ok' | 'missing' | 'tampered';

export interface CopyFacts {
  index: number;
  state: CopyState;
  /** What did not link up as devkit made it (tampered), for people. */
  problems: string[];
  head: HeadRef | null;
  /** Local branches, full ref name to commit. */
  branches: Map<string, string>;
  /** Every ref of the copy (branches, tags, remotes, anything under refs/), full name to object. */
  refs: Map<string, string>;
  /**
   * The copy's index as git on the host may read it: read once, refused (a
   * problem) when an entry names a path outside the copy or a .git, and with
   * assume-unchanged and skip-worktree cleared, which would hide changes.
   * null when there is none, or when it was refused.
   */
  gitIndex: Buffer | null;
  /** The stash: every entry (newest first, from refs/stash's reflog), and how many. */
  stash: { entries: string[]; count: number } | null;
}

const MAX_REFS = 10_000;

/** What the copy's objects/info/alternates must say: the shared store, and nothing else. */
export function alternatesText(sharedGitDir: string): string {
  return `${path.join(sharedGitDir, 'objects')}\n`;
}

function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

/** Loose refs under `dir` (a folder of refs/), depth first; a link or an odd name is a problem. */
function looseRefs(dir: SafeDir, prefix: string, found: Map<string, string>, problems: string[], depth = 0): void {
  for (const name of listIn(dir)) {
    if (found.size >= MAX_REFS) {
      problems.push(`more than ${MAX_REFS} refs`);
      return;
    }
    const ref = `${prefix}${name}`;
    const stat = lstatIn(dir, name);
    if (stat === null) continue;
    if (stat.isDirectory() && depth < 16) {
      const sub = openDirIn(dir, name);
      if (sub === null) continue;
      try {
        looseRefs(sub, `${ref}/`, found, problems, depth + 1);
      } finally {
        sub.close();
      }
    } else if (stat.isFile() && isValidRefName(ref)) {
      const id = parseLooseRef(readTextIn(dir, name, 4096) ?? '');
      if (id !== null) found.set(ref, id);
    } else if (!name.endsWith('.lock')) {
      problems.push(`${clip(ref)} is ${stat.isSymbolicLink() ? 'a symbolic link' : 'not a ref'}`);
    }
  }
}

function readRefs(git: SafeDir, problems: string[]): Map<string, string> {
  const refs = parsePackedRefs(readTextIn(git, 'packed-refs', 64 * 1024 * 1024) ?? '');
  const refsDir = openDirIn(git, 'refs');
  if (refsDir === null) {
    problems.push('.git/refs is missing');
    return refs;
  }
  try {
    const loose = new Map<string, string>();
    looseRefs(refsDir, 'refs/', loose, problems);
    for (const [name, id] of loose) refs.set(name, id); // a loose ref overrides its packed copy, as in git
  } finally {
    refsDir.close();
  }
  return refs;
}

function stashOf(git: SafeDir, refs: Map<string, string>): CopyFacts['stash'] {
  const tip = refs.get('refs/stash');
  if (tip === undefined) return null;
  const logs = openDirIn(git, 'logs');
  const refLogs = logs === null ? null : openDirIn(logs, 'refs');
  const log = refLogs === null ? null : readTextIn(refLogs, 'stash', 16 * 1024 * 1024);
  logs?.close();
  refLogs?.close();
  // Each reflog line: old id, new id, who, when, message; the newest entry is last.
  const logged = (log ?? '')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((id) => OBJECT_ID.test(id))
    .reverse();
  const entries = logged[0] === tip ? logged : [tip, ...logged.filter((id) => id !== tip)];
  return { entries, count: entries.length };
}

/** The copy's index, checked (see CopyFacts.gitIndex); what is wrong with it goes to `problems`. */
function readIndex(git: SafeDir, sharedGitDir: string, problems: string[], checked: Buffer | null): Buffer | null {
  const bytes = readFileIn(git, 'index', 1024 * 1024 * 1024);
  if (bytes === null) return null;
  if (checked !== null && bytes.equals(checked)) return bytes; // passed the check before, byte for byte (see ReadCopyOptions)
  const idBytes = objectIdBytes(sharedGitDir);
  try {
    const check = checkIndex(bytes, idBytes);
    if (check.badPaths.length > 0) {
      problems.push(`.git/index names paths outside the copy (${check.badPaths.map((p) => JSON.stringify(clip(p))).join(', ')})`);
      return null;
    }
    return check.hidden > 0 ? withoutHidingFlags(bytes, idBytes) : bytes;
  } catch (error) {
    if (!(error instanceof IndexFormatError)) throw error;
    problems.push(`.git/index is not one git reads (${error.message})`);
    return null;
  }
}

/** Checks the .git folder devkit made and reads its HEAD, refs and index. */
function readGitDir(
  git: SafeDir,
  sharedGitDir: string,
  problems: string[],
  checkedIndex: Buffer | null,
): Pick<CopyFacts, 'head' | 'branches' | 'refs' | 'stash' | 'gitIndex'> {
  if (lstatIn(git, 'commondir') !== null) problems.push('.git/commondir exists (it redirects git to another folder)');
  const objects = openDirIn(git, 'objects');
  const info = objects === null ? null : openDirIn(objects, 'info');
  const alternates = info === null ? null : readTextIn(info, 'alternates', 64 * 1024);
  info?.close();
  objects?.close();
  if (alternates !== alternatesText(sharedGitDir)) {
    problems.push(
      alternates === null
        ? '.git/objects/info/alternates is missing'
        : `.git/objects/info/alternates names ${JSON.stringify(clip(alternates.trim()))}`,
    );
  }
  const headText = readTextIn(git, 'HEAD', 4096);
  const head = headText === null ? null : parseHead(headText);
  if (head === null) problems.push(headText === null ? '.git/HEAD is missing' : `.git/HEAD holds ${JSON.stringify(clip(headText.trim()))}`);
  const refs = readRefs(git, problems);
  const branches = new Map([...refs].filter(([name]) => name.startsWith('refs/heads/')));
  return { head, branches, refs, stash: stashOf(git, refs), gitIndex: readIndex(git, sharedGitDir, problems, checkedIndex) };
}

/** A `.git` that is not a folder: what it is, for the problem report. */
function describeGitEntry(copy: SafeDir): string {
  const stat = lstatIn(copy, '.git');
  if (stat === null) return '.git is missing';
  if (stat.isSymbolicLink()) return `.git is a symbolic link to ${JSON.stringify(clip(readlinkSync(pinnedPath(copy, '.git'))))}`;
  if (stat.isFile()) return `.git is a file saying ${JSON.stringify(clip((readTextIn(copy, '.git', 4096) ?? '').trim()))}`;
  return '.git is not a folder';
}

/** Facts of a copy known to be as devkit makes it, with nothing read yet: no HEAD, refs, stash or index. */
export function blankCopyFacts(index: number): CopyFacts {
  return { index, state: 'ok', problems: [], head: null, branches: new Map(), refs: new Map(), stash: null, gitIndex: null };
}

export interface ReadCopyOptions {
  /**
   * Index bytes that passed the check before, kept where no agent can write
   * (the agent's standing view, copy-git.ts): a copy index equal to them byte
   * for byte is taken without walking its entries again. status reads every
   * copy on every call, and an index seldom changes between two.
   */
  checkedIndex?: Buffer | null;
}

export function readCopy(
  config: Pick<DevkitConfig, 'root' | 'repo'>,
  sharedGitDir: string,
  index: number,
  options: ReadCopyOptions = {},
): CopyFacts {
  const agent = agentPaths(config, index);
  const facts = blankCopyFacts(index);
  const root = openTrustedDir(config.root);
  const opened: SafeDir[] = [root];
  try {
    const dir = openDirIn(root, path.basename(agent.dir));
    if (dir !== null) opened.push(dir);
    const copy = dir === null ? null : openDirIn(dir, config.repo);
    if (copy === null) return { ...facts, state: 'missing' };
    opened.push(copy);
    let git: SafeDir | null = null;
    try {
      git = openDirIn(copy, '.git');
    } catch (error) {
      if (!(error instanceof PlantedLinkError)) throw error;
    }
    if (git === null) return { ...facts, state: 'tampered', problems: [describeGitEntry(copy)] };
    opened.push(git);
    Object.assign(facts, readGitDir(git, sharedGitDir, facts.problems, options.checkedIndex ?? null));
  } catch (error) {
    if (!(error instanceof PlantedLinkError)) throw error;
    facts.problems.push(error.message);
  } finally {
    for (const dir of opened.reverse()) dir.close();
  }
  return facts.problems.length > 0 ? { ...facts, state: 'tampered' } : facts;
}

/** The commit the copy's HEAD is at (through its branch), or null (unborn, unreadable). */
export function headCommit(facts: Pick<CopyFacts, 'head' | 'branches'>): string | null {
  if (facts.head === null) return null;
  return facts.head.kind === 'detached' ? facts.head.commit : (facts.branches.get(facts.head.ref) ?? null);
}

/** The copy's checked-out branch, short (`agent2/main`), or null when detached. */
export function headBranch(facts: Pick<CopyFacts, 'head'>): string | null {
  return facts.head?.kind === 'branch' ? facts.head.ref.replace(/^refs\/heads\//, '') : null;
}
