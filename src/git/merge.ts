import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DevkitError } from '../errors.js';
import { lines, type Git } from './git.js';
import type { SharedRepo } from './repo.js';
import { shortBranch } from './repo.js';

/**
 * Merging one branch into another in the shared repo without a half state:
 * the new tip of the target is built in the object store first (`git
 * merge-tree --write-tree` for the content, `commit-tree` for the commits),
 * and only a clean result reaches the target, as a fast-forward: a ref update
 * (compare-and-swap) when the target is not checked out, `git merge --ff-only`
 * in the primary clone when it is, so its index and work tree move with it.
 */
export type MergeMode = 'merge' | 'squash' | 'rebase';

/** What the target became: moved to the source's tip, a merge commit, one squash commit, the source's commits replayed, or nothing. */
export type MergeHow = 'fast-forward' | 'merge commit' | 'squash commit' | 'rebased' | 'up to date';

export interface MergeBuild {
  how: MergeHow;
  /** The target's tip before. */
  from: string;
  /** Its tip after (equal to `from` when up to date). */
  to: string;
  /** The source's commits not on the target, oldest first. */
  commits: string[];
}

/** A merge that would conflict: nothing was changed. */
export class MergeConflictError extends DevkitError {
  readonly files: readonly string[];
  constructor(message: string, files: readonly string[]) {
    super(message);
    this.name = 'MergeConflictError';
    this.files = files;
  }
}

async function commitTree(
  git: Git,
  tree: string,
  parents: readonly string[],
  message: string,
  env?: Record<string, string>,
): Promise<string> {
  const args = ['commit-tree', ...parents.flatMap((p) => ['-p', p]), tree];
  return (await git.run(args, { input: message, env })).trim();
}

async function treeOf(git: Git, commit: string): Promise<string> {
  return (await git.run(['rev-parse', '--verify', `${commit}^{tree}`])).trim();
}

/**
 * The tree a merge of `theirs` into `ours` would give, or the files that
 * would conflict (`git merge-tree --write-tree`: exit 0 clean, 1 conflicts).
 */
export async function mergeTree(git: Git, ours: string, theirs: string): Promise<{ tree: string } | { conflicts: string[] }> {
  const result = await git.result(['merge-tree', '--write-tree', '--name-only', '--no-messages', '-z', ours, theirs]);
  if (result.exitCode !== 0 && result.exitCode !== 1) {
    throw new DevkitError(`git merge-tree ${ours.slice(0, 12)} ${theirs.slice(0, 12)} failed: ${lines(result.stderr).join('; ')}`);
  }
  const [tree = '', ...files] = result.stdout.split('\0');
  return result.exitCode === 0 ? { tree } : { conflicts: [...new Set(files.filter((f) => f !== ''))] };
}

/** The merge base of two commits, or null when they share no history. */
export async function mergeBase(git: Git, a: string, b: string): Promise<string | null> {
  const result = await git.result(['merge-base', a, b]);
  return result.exitCode === 0 ? result.stdout.trim() : null;
}

export async function isAncestor(git: Git, ancestor: string, of: string): Promise<boolean> {
  return (await git.result(['merge-base', '--is-ancestor', ancestor, of])).exitCode === 0;
}

/** One commit as git stores it: its author line and its message, byte for byte (read from `cat-file`, not a pretty format). */
async function readCommit(
  git: Git,
  id: string,
): Promise<{ parent: string | null; author: { name: string; email: string; date: string }; message: string }> {
  const text = await git.run(['cat-file', 'commit', id]);
  const split = text.indexOf('\n\n');
  const headers = (split < 0 ? text : text.slice(0, split)).split('\n');
  const author = /^author (.*) <(.*)> (\d+ [+-]\d{4})$/.exec(headers.find((h) => h.startsWith('author ')) ?? '');
  if (author === null) throw new DevkitError(`commit ${id.slice(0, 12)} has no author line git can read`);
  const parent = headers.find((h) => h.startsWith('parent '))?.slice('parent '.length) ?? null;
  return {
    parent,
    author: { name: author[1] ?? '', email: author[2] ?? '', date: author[3] ?? '' },
    message: split < 0 ? '' : text.slice(split + 2),
  };
}

function conflict(source: string, target: string, files: readonly string[], where = ''): MergeConflictError {
  const named = files.length > 0 ? files.join(', ') : 'files git could not merge';
  return new MergeConflictError(
    `${shortBranch(source)} conflicts with ${shortBranch(target)}${where} in ${named}: nothing was merged; ` +
      `bring ${shortBranch(target)} into the agent's branch in its copy and resolve them there, then merge again`,
    files,
  );
}

/**
 * Replays `commits` (oldest first, no merges) onto `onto`, as a rebase does:
 * each commit's change (against its parent) merged onto the new tip, author
 * and message kept, committed by the host user; a commit whose change is
 * already there is dropped. For each step, merge-tree (git 2.39 has no
 * --merge-base) gets a throwaway commit holding the tip's tree on the commit's
 * own parent, so the merge base it finds is that parent.
 */
async function replay(git: Git, onto: string, commits: readonly string[], source: string, target: string): Promise<string> {
  let tip = onto;
  for (const id of commits) {
    const commit = await readCommit(git, id);
    if (commit.parent === tip) {
      tip = id; // already on top: kept as it is (same id), as git rebase does
      continue;
    }
    const tipTree = await treeOf(git, tip);
    const base = commit.parent === null ? [] : [commit.parent];
    const ours = await commitTree(git, tipTree, base, 'devkit: replay base\n');
    const merged = await mergeTree(git, ours, id);
    if ('conflicts' in merged) throw conflict(source, target, merged.conflicts, ` (replaying ${id.slice(0, 7)})`);
    if (merged.tree === tipTree) continue;
    const { name, email, date } = commit.author;
    tip = await commitTree(git, merged.tree, [tip], commit.message, {
      GIT_AUTHOR_NAME: name,
      GIT_AUTHOR_EMAIL: email,
      GIT_AUTHOR_DATE: date,
    });
  }
  return tip;
}

async function subjects(git: Git, commits: readonly string[]): Promise<string> {
  if (commits.length === 0) return '';
  const out = await git.run(['log', '--no-walk=unsorted', '--format=* %h %s', ...commits]);
  return `\n${out.trimEnd()}\n`;
}

/**
 * Builds what merging `source` into `target` (full branch refs) would make,
 * in the object store only: no ref, index or file changes. Refuses, changing
 * nothing, when the merge would conflict or the branches share no history.
 * The source's short name ("agent2/main") names it in commit messages.
 */
export async function buildMerge(git: Git, request: { source: string; target: string; mode: MergeMode }): Promise<MergeBuild> {
  const { source, target, mode } = request;
  const [from, tip] = await Promise.all([
    git.run(['rev-parse', '--verify', `${target}^{commit}`]).then((s) => s.trim()),
    git.run(['rev-parse', '--verify', `${source}^{commit}`]).then((s) => s.trim()),
  ]);
  if ((await mergeBase(git, from, tip)) === null) {
    throw new DevkitError(`${shortBranch(source)} and ${shortBranch(target)} share no history: devkit will not merge them`);
  }
  const commits = lines(await git.run(['rev-list', '--reverse', `${from}..${tip}`]));
  const upToDate: MergeBuild = { how: 'up to date', from, to: from, commits };
  if (commits.length === 0) return upToDate;
  const into = shortBranch(target);
  const name = shortBranch(source);
  if (mode === 'rebase') {
    // As git rebase picks them: no merges, none whose change the target already has.
    const picks = lines(await git.run(['rev-list', '--reverse', '--no-merges', '--right-only', '--cherry-pick', `${from}...${tip}`]));
    const to = await replay(git, from, picks, source, target);
    return to === from ? upToDate : { how: 'rebased', from, to, commits };
  }
  const merged = await mergeTree(git, from, tip);
  if ('conflicts' in merged) throw conflict(source, target, merged.conflicts);
  // Content the target already has (a squash merged before): nothing to commit.
  if (merged.tree === (await treeOf(git, from))) return upToDate;
  if (mode === 'squash') {
    const count = `${commits.length} ${commits.length === 1 ? 'commit' : 'commits'}`;
    const message = `Squash-merge ${name} into ${into} (${count})\n${await subjects(git, commits)}`;
    return { how: 'squash commit', from, to: await commitTree(git, merged.tree, [from], message), commits };
  }
  // Like git merge: a fast-forward when the target has not moved since the branch left it.
  if (await isAncestor(git, from, tip)) return { how: 'fast-forward', from, to: tip, commits };
  const message = `Merge branch '${name}' into ${into}\n${await subjects(git, commits)}`;
  return { how: 'merge commit', from, to: await commitTree(git, merged.tree, [from, tip], message), commits };
}

export interface BranchUse {
  /** Where the branch is checked out: the primary clone, another worktree's path, or nowhere. */
  checkedOut: string | null;
  /** True when the primary clone is rebasing it. */
  rebasing: boolean;
}

/** Where `branch` (a full ref) is in use in the shared repo: checked out (`'primary'` for the primary clone), being rebased. */
export async function branchUse(shared: SharedRepo, branch: string): Promise<BranchUse> {
  const out = await shared.git.run(['worktree', 'list', '--porcelain', '-z']);
  let checkedOut: string | null = null;
  let worktree = '';
  for (const field of out.split('\0')) {
    if (field.startsWith('worktree ')) worktree = field.slice('worktree '.length);
    else if (field === `branch ${branch}`) checkedOut = path.resolve(worktree) === path.resolve(shared.top) ? 'primary' : worktree;
  }
  const rebasing = ['rebase-merge', 'rebase-apply'].some((dir) => {
    const file = path.join(shared.gitDir, dir, 'head-name');
    return existsSync(file) && readFileSync(file, 'utf8').trim() === branch;
  });
  return { checkedOut, rebasing };
}

/** Why the primary clone cannot take a merge into its checked-out branch (an operation under way, changed files), or null. */
export async function primaryDirt(shared: SharedRepo): Promise<string | null> {
  for (const [file, what] of [
    ['MERGE_HEAD', 'a merge'],
    ['CHERRY_PICK_HEAD', 'a cherry-pick'],
    ['REVERT_HEAD', 'a revert'],
    ['rebase-merge', 'a rebase'],
    ['rebase-apply', 'a rebase or am'],
  ] as const) {
    if (existsSync(path.join(shared.gitDir, file))) return `${what} is under way in it`;
  }
  const status = await shared.git.run(['status', '--porcelain=v1', '-z', '--untracked-files=no', '--ignore-submodules=all']);
  const changed: string[] = [];
  const fields = status.split('\0');
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] ?? '';
    if (field.length < 4) continue;
    changed.push(field.slice(3));
    if (field[0] === 'R' || field[0] === 'C') i++; // the rename's original path
  }
  return changed.length === 0 ? null : `it has uncommitted changes (${listed(changed)})`;
}

/** Untracked or ignored files in the primary clone that moving `from` to `to` would write over. */
export async function untrackedInTheWay(shared: SharedRepo, from: string, to: string): Promise<string[]> {
  const touched = (await shared.git.run(['diff-tree', '-r', '-z', '--name-only', '--no-renames', from, to])).split('\0').filter(Boolean);
  if (touched.length === 0) return [];
  // No --exclude-standard: ignored files count too (a merge would overwrite them silently).
  const pathspecs = touched.map((file) => `:(literal)${file}`);
  return (await shared.git.run(['ls-files', '-z', '--others', '--', ...pathspecs])).split('\0').filter(Boolean);
}

export function listed(files: readonly string[], max = 5): string {
  return files.length <= max ? files.join(', ') : `${files.slice(0, max).join(', ')} and ${files.length - max} more`;
}

/**
 * Moves `target` from `from` to `to` (a descendant). Checked out in the
 * primary clone: `git merge --ff-only`, which updates index, work tree and
 * branch together and changes nothing when it cannot; otherwise a
 * compare-and-swap of the ref alone.
 */
export async function fastForward(
  shared: SharedRepo,
  move: { target: string; from: string; to: string; checkedOut: boolean; reason: string },
): Promise<void> {
  const env = { GIT_REFLOG_ACTION: move.reason };
  if (move.checkedOut) {
    await shared.git.retryOnGitLock(() =>
      shared.git.run(['merge', '--ff-only', '--quiet', '--no-autostash', '--no-verify', move.to], { env }),
    );
  } else {
    await shared.git.mutate(['update-ref', '-m', move.reason, move.target, move.to, move.from]);
  }
}
