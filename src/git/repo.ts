import { realpathSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { git, gitResult } from './git.js';

/** A non-bare repository as devkit needs to know it. */
export interface Repo {
  /** Top of the working tree (the primary clone). */
  top: string;
  /** The shared git directory: objects, refs, config, worktrees/. */
  commonDir: string;
}

/**
 * Opens the primary clone at `dir`, refusing anything that is not the top of a
 * git working tree (a plain folder, a folder inside another repo, a bare repo).
 */
export async function openRepo(dir: string): Promise<Repo> {
  const copy = await workingCopyOf(dir);
  if (copy === null || realpathSync(copy.top) !== realpathSync(dir)) {
    throw new UsageError(`${dir} is not a git repository: clone your repo there first (git clone URL ${dir})`);
  }
  return copy;
}

/** The working copy holding `dir` (its top and shared git dir), or null outside any. */
export async function workingCopyOf(dir: string): Promise<Repo | null> {
  const result = await gitResult(['rev-parse', '--path-format=absolute', '--show-toplevel', '--git-common-dir'], { cwd: dir }).catch(
    () => null, // dir does not exist
  );
  const [top, commonDir] = result?.exitCode === 0 ? result.stdout.split('\n') : [];
  return top === undefined || top === '' || commonDir === undefined ? null : { top, commonDir };
}

export interface HeadState {
  /** Full ref name of the checked-out branch, or null when HEAD is detached. */
  branch: string | null;
  /** The commit HEAD points at, or null in a repo with no commits yet. */
  commit: string | null;
}

export async function headState(cwd: string): Promise<HeadState> {
  const [symbolic, commit] = await Promise.all([
    gitResult(['symbolic-ref', '-q', 'HEAD'], { cwd }),
    gitResult(['rev-parse', '-q', '--verify', 'HEAD^{commit}'], { cwd }),
  ]);
  return {
    branch: symbolic.exitCode === 0 ? symbolic.stdout.trim() : null,
    commit: commit.exitCode === 0 ? commit.stdout.trim() : null,
  };
}

/** A commit-ish given by the user, resolved; null when it names no commit. */
export async function resolveCommit(cwd: string, ref: string): Promise<string | null> {
  const result = await gitResult(['rev-parse', '-q', '--verify', `${ref}^{commit}`], { cwd });
  return result.exitCode === 0 ? result.stdout.trim() : null;
}

/** The full ref name when `ref` names a local or remote-tracking branch, else null. */
export async function branchRef(cwd: string, ref: string): Promise<string | null> {
  const result = await gitResult(['rev-parse', '--symbolic-full-name', ref], { cwd });
  const full = result.stdout.trim();
  return result.exitCode === 0 && /^refs\/(heads|remotes)\//.test(full) ? full : null;
}

export async function refExists(cwd: string, ref: string): Promise<boolean> {
  return (await gitResult(['show-ref', '-q', '--verify', ref], { cwd })).exitCode === 0;
}

export async function configGet(cwd: string, key: string): Promise<string | null> {
  const result = await gitResult(['config', '--get', key], { cwd });
  return result.exitCode === 0 ? result.stdout.trim() : null;
}

export function shortBranch(ref: string): string {
  return ref.replace(/^refs\/heads\//, '');
}

/** Path of a per-worktree or shared file inside the git dir (`git rev-parse --git-path`). */
export async function gitPath(cwd: string, name: string): Promise<string> {
  return path.resolve(cwd, (await git(['rev-parse', '--git-path', name], { cwd })).trim());
}
