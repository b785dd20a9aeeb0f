import { lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DevkitError, UsageError } from '../errors.js';
import { Git, type GitBase, type GitCall } from './git.js';
import { parseTrack } from './status.js';

/**
 * The shared repository: the primary clone at <root>/<repo>, whose .git holds
 * every agent's objects and branches. No container can write its .git (it is
 * mounted read-only everywhere), so devkit trusts it, after checking that it
 * is a plain git folder and not redirected (a `commondir` file would make git
 * read another folder's config and hooks).
 */
export interface SharedRepo {
  /** Top of the primary clone's working tree. */
  top: string;
  /** Its .git folder: objects, refs, config. */
  gitDir: string;
  /** git in the primary clone, naming its git dir explicitly. */
  git: Git;
}

function kind(file: string): 'dir' | 'file' | 'link' | 'other' | 'missing' {
  try {
    const stat = lstatSync(file);
    return stat.isSymbolicLink() ? 'link' : stat.isDirectory() ? 'dir' : stat.isFile() ? 'file' : 'other';
  } catch {
    return 'missing';
  }
}

export function openSharedRepo(base: GitBase, top: string): SharedRepo {
  const gitDir = path.join(top, '.git');
  const found = kind(gitDir);
  if (kind(top) !== 'dir' || found === 'missing') {
    throw new UsageError(`${top} is not a git repository: clone your repo there first (git clone URL ${top})`);
  }
  if (found !== 'dir') throw new DevkitError(`${gitDir} is a ${found}, not a folder: devkit's shared repo must be a plain clone`);
  for (const [name, want] of [
    ['objects', 'dir'],
    ['refs', 'dir'],
    ['HEAD', 'file'],
    ['config', 'file'],
    ['commondir', 'missing'],
  ] as const) {
    const seen = kind(path.join(gitDir, name));
    if (seen !== want) {
      throw new DevkitError(
        want === 'missing'
          ? `${gitDir}/commondir exists: git would read another folder's config and hooks for this repo; remove it (devkit never makes one)`
          : `${gitDir}/${name} is ${seen === 'missing' ? 'missing' : `a ${seen}`}: ${top} is not a plain git clone`,
      );
    }
  }
  return { top, gitDir, git: new Git(base, top, [`--git-dir=${gitDir}`, `--work-tree=${top}`]) };
}

export interface HeadState {
  /** Full ref name of the checked-out branch, or null when HEAD is detached. */
  branch: string | null;
  /** The commit HEAD points at, or null in a repo with no commits yet. */
  commit: string | null;
}

export async function headState(git: Git): Promise<HeadState> {
  const [symbolic, commit] = await Promise.all([
    git.result(['symbolic-ref', '-q', 'HEAD']),
    git.result(['rev-parse', '-q', '--verify', 'HEAD^{commit}']),
  ]);
  return {
    branch: symbolic.exitCode === 0 ? symbolic.stdout.trim() : null,
    commit: commit.exitCode === 0 ? commit.stdout.trim() : null,
  };
}

/** A commit-ish given by the user, resolved; null when it names no commit. */
export async function resolveCommit(git: Git, ref: string): Promise<string | null> {
  const result = await git.result(['rev-parse', '-q', '--verify', '--end-of-options', `${ref}^{commit}`]);
  return result.exitCode === 0 ? result.stdout.trim() : null;
}

/** The full ref name when `ref` names a local or remote-tracking branch, else null. */
export async function branchRef(git: Git, ref: string): Promise<string | null> {
  const result = await git.result(['rev-parse', '--symbolic-full-name', ref]); // callers refuse refs starting with '-'
  const full = result.stdout.trim();
  return result.exitCode === 0 && /^refs\/(heads|remotes)\//.test(full) ? full : null;
}

export async function refExists(git: Git, ref: string): Promise<boolean> {
  return (await git.result(['show-ref', '-q', '--verify', ref])).exitCode === 0;
}

export async function configGet(git: Git, key: string): Promise<string | null> {
  const result = await git.result(['config', '--get', key]);
  return result.exitCode === 0 ? result.stdout.trim() : null;
}

export function shortBranch(ref: string): string {
  return ref.replace(/^refs\/heads\//, '');
}

/** Branches (and what they point at) under a prefix like `refs/heads/agent2/`. */
export async function refsUnder(git: Git, prefix: string): Promise<Map<string, string>> {
  const out = await git.run(['for-each-ref', '--format=%(objectname) %(refname)', prefix]);
  const refs = new Map<string, string>();
  for (const line of out.split('\n')) {
    const space = line.indexOf(' ');
    if (space > 0) refs.set(line.slice(space + 1), line.slice(0, space));
  }
  return refs;
}

export interface BranchInfo {
  id: string;
  /** The branch it tracks (short name), or null. */
  upstream: string | null;
  /** Commits ahead of and behind its upstream; null without one (or when it is gone). */
  track: { ahead: number; behind: number } | null;
}

/** Every local branch with what it tracks, in one git call (status and list ask for all agents at once). */
export async function branches(git: Git, call: GitCall = {}): Promise<Map<string, BranchInfo>> {
  const out = await git.run(
    ['for-each-ref', '--format=%(refname)%00%(objectname)%00%(upstream:short)%00%(upstream:track)', 'refs/heads/'],
    call,
  );
  const found = new Map<string, BranchInfo>();
  for (const line of out.split('\n')) {
    const [ref, id, upstream, track] = line.split('\0');
    if (ref === undefined || id === undefined || ref === '') continue;
    found.set(ref, { id, upstream: upstream || null, track: upstream ? parseTrack(track ?? '') : null });
  }
  return found;
}

/** Which of `ids` the repository has (in its own store or the ones it borrows from). */
export async function presentObjects(git: Git, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const out = await git.run(['cat-file', '--batch-check=%(objectname) %(objecttype)'], { input: `${ids.join('\n')}\n` });
  return new Set(
    out
      .split('\n')
      .filter((line) => !line.endsWith(' missing') && line !== '')
      .map((line) => line.split(' ')[0] ?? ''),
  );
}

/** Commits reachable from `id` (by default the branch's own tip) that no branch but `branch` holds, local or remote-tracking. */
export async function commitsOnlyOn(git: Git, branch: string, id = `refs/heads/${branch}`): Promise<number> {
  // Patterns before --branches and --remotes match names without refs/heads/ or refs/remotes/.
  const out = await git.run(['rev-list', '--count', id, '--not', `--exclude=${branch}`, '--branches', '--remotes', '--']);
  return Number(out.trim());
}

/**
 * Fetches `refspecs` from the repository at `from` (a view of an agent's copy), every object
 * checked on the way in (fsck: no malformed or dangling-link object lands); no tags, no FETCH_HEAD.
 */
export function fetchChecked(git: Git, from: string, refspecs: readonly string[], timeoutMs: number): Promise<string> {
  const checked = ['-c', 'fetch.fsckObjects=true', '-c', 'transfer.fsckObjects=true'];
  return git.mutate([...checked, 'fetch', '--no-tags', '--no-write-fetch-head', '--quiet', '--end-of-options', from, ...refspecs], {
    timeoutMs,
  });
}

/** Formats read in this process, per git folder: a repository's format is set when it is made and never changes. */
const formats = new Map<string, 'sha1' | 'sha256'>();

/**
 * A repository's object format: sha256 when its config says so, else sha1.
 * Read from the config file of a repository devkit trusts (the shared repo:
 * no container can write it), not by a git process: status asks on every call.
 */
export function objectFormatOf(gitDir: string): 'sha1' | 'sha256' {
  let format = formats.get(gitDir);
  if (format === undefined) {
    const config = readFileSync(path.join(gitDir, 'config'), 'utf8');
    format = /^\s*objectformat\s*=\s*sha256\s*$/im.test(config) ? 'sha256' : 'sha1';
    formats.set(gitDir, format);
  }
  return format;
}

/** How many bytes an object id takes in that format. */
export function objectIdBytes(gitDir: string): number {
  return objectFormatOf(gitDir) === 'sha256' ? 32 : 20;
}
