import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DevkitError } from '../errors.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentPaths } from '../fleet/layout.js';
import { childPath, openSafeDir } from '../fs/safe.js';
import { fetchChecked, branches as sharedBranches } from '../git/repo.js';
import { parseStatus, statusArgs, type DirtyCounts } from '../git/status.js';
import { backupsRepo, timestamp } from './backups-repo.js';
import { headCommit, readCopy, type CopyFacts } from './copy.js';
import { copyGitTimeoutMs, withCopyView, type CopyView } from './copy-git.js';

/** What removing an agent's copy would lose, if nothing saved it. */
export interface AtRisk extends DirtyCounts {
  /** Nested repositories in the copy (their history is work too). */
  nestedRepos: number;
  /** Commits on the copy's refs (branches, tags, anything under refs/) or HEAD that no shared branch holds. */
  unmergedCommits: number;
  /** Entries in the copy's stash. */
  stashes: number;
  /** The copy does not link up as devkit made it: its files are all that can be read. */
  tampered: boolean;
}

export function isAtRisk(risk: AtRisk): boolean {
  return risk.tampered || risk.modified + risk.untracked + risk.ignored + risk.nestedRepos + risk.unmergedCommits + risk.stashes > 0;
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function describeRisk(risk: AtRisk): string {
  const parts: string[] = [];
  if (risk.tampered) parts.push('a copy that does not link up as devkit made it');
  if (risk.modified > 0) parts.push(count(risk.modified, 'modified file'));
  if (risk.untracked > 0) parts.push(count(risk.untracked, 'untracked file'));
  if (risk.ignored > 0) parts.push(count(risk.ignored, 'ignored file'));
  if (risk.nestedRepos > 0) parts.push(count(risk.nestedRepos, 'nested repository', 'nested repositories'));
  if (risk.unmergedCommits > 0) parts.push(`${count(risk.unmergedCommits, 'commit')} on no shared branch`);
  if (risk.stashes > 0) parts.push(count(risk.stashes, 'stash entry', 'stash entries'));
  return parts.join(', ');
}

/** Everything the copy points at: its HEAD, every ref (branches, tags, anything under refs/) and its stash. */
function copyTips(facts: CopyFacts): Map<string, string> {
  const refs = new Map(facts.refs);
  facts.stash?.entries.forEach((entry, i) => refs.set(`refs/devkit/stash/${i}`, entry));
  if (facts.head?.kind === 'detached') refs.set('refs/devkit/head', facts.head.commit);
  return refs;
}

/** Nested repositories: untracked folders git shows whole (with -uall only a repository is shown as a folder) and gitlinks. */
async function nestedRepos(view: CopyView, status: string, env: Record<string, string> = {}): Promise<string[]> {
  const untracked = status
    .split('\0')
    .filter((field) => /^(\?\?|!!) .*\/$/.test(field))
    .map((field) => field.slice(3, -1));
  const staged = (await view.git.run(['ls-files', '--stage', '-z'], { env }))
    .split('\0')
    .filter((entry) => entry.startsWith('160000 '))
    .map((entry) => entry.slice(entry.indexOf('\t') + 1));
  return [...new Set([...untracked, ...staged])];
}

/** The commits `ids` name (a tag is peeled; what names no commit, a tree or a blob, is left out). */
async function peelToCommits(view: CopyView, ids: Iterable<string>): Promise<string[]> {
  const wanted = [...new Set(ids)];
  if (wanted.length === 0) return [];
  const out = await view.git.run(['cat-file', '--batch-check=%(objectname)'], {
    input: `${wanted.map((id) => `${id}^{commit}`).join('\n')}\n`,
  });
  return [...new Set(out.split('\n').filter((line) => /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(line)))];
}

async function unmergedCommits(fleet: Fleet, view: CopyView, tips: Iterable<string>): Promise<number> {
  const shared = [...(await sharedBranches(fleet.shared.git)).values()].map((info) => `^${info.id}`);
  const wanted = await peelToCommits(view, tips);
  if (wanted.length === 0) return 0;
  return Number((await view.git.run(['rev-list', '--count', '--stdin'], { input: `${[...wanted, ...shared].join('\n')}\n` })).trim());
}

/** What agent K's copy holds that exists nowhere else. */
export async function assessRisk(fleet: Fleet, facts: CopyFacts): Promise<AtRisk> {
  const none = { modified: 0, untracked: 0, ignored: 0, nestedRepos: 0, unmergedCommits: 0, stashes: 0, tampered: false };
  if (facts.state === 'missing') return none;
  if (facts.state === 'tampered') return { ...none, tampered: true };
  return withCopyView(fleet, facts, { head: headCommit(facts), withIndex: true, withObjects: true }, async (view) => {
    const status = await view.git.run(statusArgs(true), { timeoutMs: copyGitTimeoutMs(fleet.env, 'status') });
    const dirt = parseStatus(status);
    const nested = await nestedRepos(view, status);
    const branchTips = [...copyTips(facts)].filter(([ref]) => !ref.startsWith('refs/devkit/stash/')).map(([, id]) => id);
    return {
      ...dirt,
      // A nested repository shows as one untracked folder too: count it once, as a repository.
      untracked: Math.max(0, dirt.untracked - nested.filter((repo) => status.includes(`?? ${repo}/\0`)).length),
      ignored: Math.max(0, dirt.ignored - nested.filter((repo) => status.includes(`!! ${repo}/\0`)).length),
      nestedRepos: nested.length,
      unmergedCommits: await unmergedCommits(fleet, view, branchTips),
      stashes: facts.stash?.count ?? 0,
      tampered: false,
    };
  });
}

export interface Backup {
  /** The bare repository in devkit's state that holds backups (no agent can reach it). */
  repo: string;
  ref: string;
  commit: string;
  /** The command that brings the saved copy back, for the user. */
  restore: string;
}

/** A backup of an agent's copy: `devkit restore K NAME` brings it back as agent K's own copy. */
export interface CopyBackup extends Backup {
  /** `backup/<time>`, as `devkit checkpoints K` lists it. */
  name: string;
}

const BACKUP_IDENTITY = {
  GIT_AUTHOR_NAME: 'devkit',
  GIT_AUTHOR_EMAIL: 'devkit@localhost',
  GIT_COMMITTER_NAME: 'devkit',
  GIT_COMMITTER_EMAIL: 'devkit@localhost',
};

/** A tar of `member` (relative to the copy), stored as a blob: links are stored as links, never followed. */
async function tarBlob(view: CopyView, copy: string, member: string, exclude: string[] = []): Promise<string> {
  const tar = await execa('tar', ['-C', copy, '--one-file-system', ...exclude.map((e) => `--exclude=${e}`), '-cf', '-', '--', member], {
    encoding: 'buffer',
    reject: false,
    stdin: 'ignore',
  });
  if (tar.exitCode !== 0) throw new DevkitError(`tar of ${path.join(copy, member)} failed: ${Buffer.from(tar.stderr).toString().trim()}`);
  return (await view.git.run(['hash-object', '-w', '--stdin'], { input: Buffer.from(tar.stdout) })).trim();
}

/**
 * A tree of the copy's files as they are on disk: tracked, untracked and
 * ignored alike (info/exclude, .gitignore and index flags cannot hide a file
 * from it); each nested repository as a tar (its history included), and the
 * copy's own .git (config, hooks, reflogs; its objects when they cannot be
 * saved as commits) as a tar too.
 */
async function filesTree(view: CopyView, facts: CopyFacts, copy: string, gitDirWithObjects: boolean): Promise<string> {
  const index = path.join(view.gitDir, 'devkit-backup-index');
  // The view's index: the copy's entries, nothing hidden and no stat data trusted (takeIndex), so every file is read.
  if (existsSync(path.join(view.gitDir, 'index'))) copyFileSync(path.join(view.gitDir, 'index'), index);
  const env = { GIT_INDEX_FILE: index };
  // Everything in the copy: its HOME is not in it (agent K's HOME is beside the copy, mounted at .devhome only inside its container).
  await view.git.run(['add', '--all', '--force', '--', '.'], { env });
  const status = await view.git.run(statusArgs(true), { env });
  for (const repo of await nestedRepos(view, status, env)) {
    const blob = await tarBlob(view, copy, repo);
    await view.git.run(['update-index', '--force-remove', '--', repo], { env });
    await view.git.run(['update-index', '--add', '--cacheinfo', `100644,${blob},.devkit-backup/nested/${repo}.tar`], { env });
  }
  if (facts.state !== 'missing') {
    const blob = await tarBlob(view, copy, '.git', gitDirWithObjects ? [] : ['.git/objects']);
    await view.git.run(['update-index', '--add', '--cacheinfo', `100644,${blob},.devkit-backup/git-dir.tar`], { env });
  }
  return (await view.git.run(['write-tree'], { env })).trim();
}

/** What a saved commit records of the copy, for its message (and for a checkpoint, for restore). */
export interface SavedState {
  /** The copy's HEAD commit, or null (unborn, or a copy saved as files only). */
  head: string | null;
  /** The full ref HEAD named (refs/heads/agent2/main), or null when detached. */
  headRef: string | null;
  /** The tree of its index (its staged state), or null when it had none it could be read from. */
  stagedTree: string | null;
  /** The tree of the saved commit (its files). */
  tree: string;
  /** The copy's local branches, full name to commit. */
  branches: ReadonlyMap<string, string>;
}

/** How saveCopy builds its commit. */
export interface SaveSpec {
  /** The ref it lands on in the backups repository. */
  ref: string;
  /** The tree of files, made in the view. */
  tree: (view: CopyView, facts: CopyFacts) => Promise<string>;
  message: (state: SavedState) => string;
  /** Says, once the state is known, that there is nothing to save: saveCopy then returns null, having saved nothing. */
  skip?: (state: SavedState, view: CopyView) => Promise<boolean>;
}

/**
 * Saves agent K's copy as a commit in devkit's backups repository at
 * `spec.ref`: its tree is `spec.tree`'s, and its parents are the copy's HEAD,
 * its staged state when that differs (a commit of the index's tree on HEAD),
 * and every ref and stash tip of the copy, so every commit of the copy stays
 * reachable. A copy that does not link up as devkit made it is saved as files
 * only. The commit is made in a view and fetched with every object checked.
 */
export async function saveCopy(fleet: Fleet, facts: CopyFacts, spec: SaveSpec): Promise<{ commit: string; state: SavedState } | null> {
  const agent = agentPaths(fleet.config, facts.index);
  const trusted = facts.state === 'ok';
  const backups = await backupsRepo(fleet);
  const tips = trusted ? copyTips(facts) : new Map<string, string>();
  const head = trusted ? headCommit(facts) : null;
  return withCopyView(fleet, facts, { head, withIndex: trusted, withObjects: trusted, refs: tips }, async (view) => {
    const parents: string[] = head === null ? [] : [head];
    const stagedTree = trusted && existsSync(path.join(view.gitDir, 'index')) ? (await view.git.run(['write-tree'])).trim() : null;
    if (stagedTree !== null && head !== null && stagedTree !== (await view.git.run(['rev-parse', 'HEAD^{tree}'])).trim()) {
      parents.push(
        (
          await view.git.run(['commit-tree', stagedTree, '-p', head, '-m', `devkit backup of ${agent.name}: staged changes`], {
            env: BACKUP_IDENTITY,
          })
        ).trim(),
      );
    }
    // Every commit a ref or the stash holds becomes a parent, so the backup keeps it (tags peeled to their commits).
    for (const tip of await peelToCommits(view, tips.values())) if (!parents.includes(tip)) parents.push(tip);
    const state: SavedState = {
      head,
      headRef: trusted && facts.head?.kind === 'branch' ? facts.head.ref : null,
      stagedTree,
      tree: await spec.tree(view, facts),
      branches: trusted ? facts.branches : new Map(),
    };
    if (spec.skip !== undefined && (await spec.skip(state, view))) return null;
    const made = (
      await view.git.run(['commit-tree', state.tree, ...parents.flatMap((p) => ['-p', p]), '-m', spec.message(state)], {
        env: BACKUP_IDENTITY,
      })
    ).trim();
    await view.git.run(['update-ref', 'refs/devkit/saved', made]);
    // Into the backups repository, every object checked on the way (the copy's own objects came from its quarantine).
    await fetchChecked(backups, view.gitDir, [`refs/devkit/saved:${spec.ref}`], copyGitTimeoutMs(fleet.env, 'work'));
    return { commit: made, state };
  });
}

/**
 * Saves everything removing agent K's copy would lose to
 * refs/devkit/backup/agentK/<timestamp>: saveCopy with the copy's files as
 * they are on disk (filesTree), ignored ones, nested repositories and its
 * .git included. No container may write the copy meanwhile (the caller
 * checked).
 */
export async function backupCopy(fleet: Fleet, index: number, reason: string): Promise<CopyBackup> {
  const facts = readCopy(fleet.config, fleet.shared.gitDir, index);
  const agent = agentPaths(fleet.config, index);
  const ref = `refs/devkit/backup/${agent.name}/${timestamp(new Date())}`;
  const saved = await saveCopy(fleet, facts, {
    ref,
    tree: (view) => filesTree(view, facts, agent.worktree, facts.state !== 'ok'),
    message: () => `devkit backup of ${agent.name} (${agent.worktree}): ${reason}`,
  });
  if (saved === null) throw new DevkitError(`the backup of ${agent.name} was skipped`); // no skip given: never
  const git = `git -C ${fleet.shared.top}`;
  // A folder of its own per backup: restoring two backups of one agent must not meet.
  const into = `${agent.dir}-restored-${path.basename(ref)}`;
  const restore = `${git} fetch ${fleet.state.backupsRepo} ${ref} && ${git} worktree add ${into} FETCH_HEAD`;
  return { repo: fleet.state.backupsRepo, ref, commit: saved.commit, restore, name: `backup/${path.basename(ref)}` };
}

/**
 * Saves agent K's HOME (SSH keys, agent CLI state, its .gitconfig) to
 * refs/devkit/backup/agentK/<timestamp>-home in devkit's backups repository:
 * a commit holding one file, devhome.tar (links stored as links, never
 * followed). No container may write the HOME meanwhile (the caller checked).
 */
export async function backupHome(fleet: Fleet, index: number, reason: string): Promise<Backup> {
  const agent = agentPaths(fleet.config, index);
  const backups = await backupsRepo(fleet);
  const ref = `refs/devkit/backup/${agent.name}/${timestamp(new Date())}-home`;
  const home = path.basename(agent.devhome);
  const tarFile = path.join(fleet.state.dir, `.home-backup-${randomBytes(6).toString('hex')}.tar`);
  const dir = openSafeDir(fleet.config.root, agent.rel.dir);
  if (dir === null) throw new DevkitError(`${agent.dir} is gone: no HOME to save`);
  try {
    const tar = await execa('tar', ['-C', childPath(dir), '--one-file-system', '-cf', tarFile, '--', home], {
      reject: false,
      stdin: 'ignore',
    });
    if (tar.exitCode !== 0) throw new DevkitError(`tar of ${agent.devhome} failed: ${tar.stderr.trim()}`);
    const blob = (await backups.run(['hash-object', '-w', '--', tarFile])).trim();
    const tree = (await backups.run(['mktree'], { input: `100644 blob ${blob}\tdevhome.tar\n` })).trim();
    const message = `devkit backup of ${agent.name}'s HOME (${agent.devhome}): ${reason}`;
    const commit = (await backups.run(['commit-tree', tree, '-m', message], { env: BACKUP_IDENTITY })).trim();
    await backups.run(['update-ref', ref, commit]);
    const blobOut = `git --git-dir=${fleet.state.backupsRepo} cat-file blob ${ref}:devhome.tar`;
    const restore = `mkdir -p ${agent.dir} && ${blobOut} | tar -C ${agent.dir} -xpf -`;
    return { repo: fleet.state.backupsRepo, ref, commit, restore };
  } finally {
    dir.close();
    rmSync(tarFile, { force: true });
  }
}
