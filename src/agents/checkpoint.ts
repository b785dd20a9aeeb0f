import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DevkitError, UsageError, oneLine } from '../errors.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentPaths } from '../fleet/layout.js';
import { OBJECT_ID, isValidRefName } from '../git/refs.js';
import { saveCopy, type SavedState } from './backup.js';
import { backupsRepo, timestamp } from './backups-repo.js';
import { readCopy } from './copy.js';
import { refreshQuarantine, type CopyView } from './copy-git.js';
import { checkIncludeFile } from './include.js';
import { runAsAgent, writerProfiles } from './writers.js';

/**
 * Checkpoints: agent K's whole state (HEAD and branch tips, staged state,
 * modified and untracked files, and the ignored files the workspace's include
 * file names), saved as a commit in devkit's backups repository without
 * touching the copy's index, files or HEAD. The commit's tree is the files;
 * its message holds what restore needs (HEAD, its branch, the staged tree,
 * the branch tips) as `Devkit-*` lines.
 */

/** The prefix of agent K's checkpoint refs; a checkpoint's name is what follows it (its time). */
export function checkpointPrefix(index: number): string {
  return `refs/devkit/checkpoint/agent${index}/`;
}

/** The state a checkpoint recorded, as restore reads it back. */
export interface CheckpointState {
  head: string | null;
  headRef: string | null;
  stagedTree: string | null;
  tree: string;
  branches: Map<string, string>;
}

export interface Checkpoint extends CheckpointState {
  /** Short name, what `devkit restore K NAME` takes. */
  name: string;
  ref: string;
  commit: string;
  message: string;
  /** Where the files were read: inside the agent's running container (its profile), or on the host while none ran. */
  readIn: string;
}

/** Who wrote it: devkit. Subject first (the user's message, one line), then the Devkit-* lines. */
function checkpointMessage(subject: string, state: SavedState): string {
  const lines = [
    `Devkit-Head: ${state.head ?? 'none'}`,
    `Devkit-Head-Ref: ${state.headRef ?? 'none'}`,
    `Devkit-Staged: ${state.stagedTree ?? 'none'}`,
    ...[...state.branches].map(([ref, id]) => `Devkit-Branch: ${id} ${ref}`),
  ];
  return `${subject}\n\n${lines.join('\n')}\n`;
}

/** The state a checkpoint's commit records (its tree and its Devkit-* lines), or null when it is not one devkit wrote. */
export function parseCheckpoint(tree: string, body: string): CheckpointState | null {
  const state: CheckpointState = { head: null, headRef: null, stagedTree: null, tree, branches: new Map() };
  const id = (value: string): string | null => (OBJECT_ID.test(value) ? value : null);
  let seen = 0;
  for (const line of body.split('\n')) {
    const [key, ...rest] = line.split(' ');
    const value = rest.join(' ');
    if (key === 'Devkit-Head:') [state.head, seen] = [id(value), seen + 1];
    else if (key === 'Devkit-Head-Ref:') [state.headRef, seen] = [value !== 'none' && isValidRefName(value) ? value : null, seen + 1];
    else if (key === 'Devkit-Staged:') [state.stagedTree, seen] = [id(value), seen + 1];
    else if (key === 'Devkit-Branch:' && rest.length === 2 && OBJECT_ID.test(rest[0] ?? '') && isValidRefName(rest[1] ?? ''))
      state.branches.set(rest[1] ?? '', rest[0] ?? '');
  }
  return seen === 3 ? state : null;
}

/** True when two states are the same: same files, staged state, HEAD, HEAD's branch and branch tips. */
export function sameState(a: CheckpointState | SavedState, b: CheckpointState | SavedState): boolean {
  const branches = (s: CheckpointState | SavedState): string => JSON.stringify([...s.branches].sort(([x], [y]) => (x < y ? -1 : 1)));
  return a.tree === b.tree && a.stagedTree === b.stagedTree && a.head === b.head && a.headRef === b.headRef && branches(a) === branches(b);
}

// Agent K's HOME is mounted at .devhome inside its agentK container: never part of its state. (An exclude
// pathspec cannot keep `git add --all` out of it: git then fails on .devhome being ignored; it is taken out after.)
const NOT_HOME = ':(top,exclude).devhome';

/**
 * The files tree a checkpoint takes, made in the view on the host: the
 * copy's index (what is staged), then every file, tracked or untracked, that
 * is not ignored, then the ignored files the include file names. Only while
 * no container can write the copy (a folder swapped for a link mid-way would
 * make git read outside it).
 */
async function hostFilesTree(fleet: Fleet, view: CopyView): Promise<string> {
  const index = path.join(view.gitDir, 'devkit-checkpoint-index');
  if (existsSync(path.join(view.gitDir, 'index'))) copyFileSync(path.join(view.gitDir, 'index'), index);
  const env = { GIT_INDEX_FILE: index };
  await view.git.run(['add', '--all', '--', '.'], { env });
  await view.git.run(['rm', '-r', '-q', '--cached', '--ignore-unmatch', '--', '.devhome'], { env });
  const include = checkIncludeFile(fleet.workspace.dir);
  if (include !== null) {
    const listed = await view.git.run(['ls-files', '-z', '--others', '--ignored', `--exclude-from=${include}`, '--', '.', NOT_HOME], {
      env,
    });
    if (listed !== '')
      await view.git.run(['--literal-pathspecs', 'add', '--force', '--pathspec-from-file=-', '--pathspec-file-nul'], {
        env,
        input: listed,
      });
  }
  return (await view.git.run(['write-tree'], { env })).trim();
}

/** The same, by the agent's own git inside its running container; the include patterns come on stdin. */
const CONTAINER_FILES_TREE = `set -e
gd=$(git rev-parse --git-dir)
idx="$gd/devkit-checkpoint-index"; inc="$gd/devkit-checkpoint-include"
trap 'rm -f "$idx" "$inc"' EXIT
rm -f "$idx" "$inc"
cat > "$inc"
if [ -f "$gd/index" ]; then cp "$gd/index" "$idx"; fi
export GIT_INDEX_FILE="$idx"
git add --all -- .
git rm -r -q --cached --ignore-unmatch -- .devhome
if [ -s "$inc" ]; then
  git ls-files -z --others --ignored --exclude-from="$inc" -- . '${NOT_HOME}' > "$idx.list"
  if [ -s "$idx.list" ]; then git --literal-pathspecs add --force --pathspec-from-file="$idx.list" --pathspec-file-nul; fi
  rm -f "$idx.list"
fi
git write-tree`;

async function containerFilesTree(fleet: Fleet, index: number, profile: string, view: CopyView): Promise<string> {
  const include = checkIncludeFile(fleet.workspace.dir);
  const result = await runAsAgent(fleet, index, profile, ['sh', '-c', CONTAINER_FILES_TREE], include === null ? '' : readFileSync(include));
  const tree = result.stdout.trim().split('\n').at(-1) ?? '';
  if (result.code !== 0 || !OBJECT_ID.test(tree))
    throw new DevkitError(
      `reading agent ${index}'s files in its ${profile} container failed: ${oneLine(result.stderr) || `exit ${result.code}`}`,
    );
  // The tree's objects are in the copy: bring them into the quarantine the view reads (the fetch checks each).
  refreshQuarantine(fleet, index);
  if ((await view.git.run(['cat-file', '-t', tree])).trim() !== 'tree') throw new DevkitError(`agent ${index}'s container gave no tree`);
  return tree;
}

/** The newest checkpoint of agent K, or null. */
export async function latestCheckpoint(fleet: Fleet, index: number): Promise<CheckpointState | null> {
  const backups = await backupsRepo(fleet);
  const out = await backups.run(['for-each-ref', '--count=1', '--sort=-refname', '--format=%(objectname)', checkpointPrefix(index)]);
  const commit = out.trim();
  if (commit === '') return null;
  const [tree = '', body = ''] = (await backups.run(['show', '-s', '--format=%T%x00%B', commit])).split('\0');
  return parseCheckpoint(tree, body);
}

export interface CheckpointRequest {
  index: number;
  message: string;
  /** Save nothing when the state is the same as the latest checkpoint's (status --watch --checkpoint-every). */
  onlyIfChanged?: boolean;
  /** Save nothing when this says so of the state (restore: nothing to lose). */
  skip?: (state: SavedState, view: CopyView) => Promise<boolean>;
}

/**
 * `devkit checkpoint K`: saves agent K's state to
 * refs/devkit/checkpoint/agentK/<time>. Its files are read by the agent's
 * own git inside its running container (agentK, else dev-all) when one runs,
 * else on the host through a view. Returns null when nothing was saved
 * (onlyIfChanged, skip). The caller holds the fleet lock.
 */
export async function checkpointAgent(fleet: Fleet, request: CheckpointRequest): Promise<Checkpoint | null> {
  const { index } = request;
  if (index === 1) throw new UsageError('agent 1 is the primary clone: checkpoints are for agents 2 and up');
  const agent = agentPaths(fleet.config, index);
  const facts = readCopy(fleet.config, fleet.shared.gitDir, index);
  if (facts.state === 'missing') throw new DevkitError(`${agent.name} has no copy at ${agent.worktree}: nothing to checkpoint`);
  if (facts.state === 'tampered')
    throw new DevkitError(
      `${agent.name}'s copy does not link up as devkit made it (${facts.problems.join('; ')}): devkit reads no git data through it`,
    );
  const profile = (await writerProfiles(fleet, index))[0] ?? null;
  const previous = request.onlyIfChanged === true ? await latestCheckpoint(fleet, index) : null;
  const name = timestamp(new Date());
  const ref = `${checkpointPrefix(index)}${name}`;
  const message = oneLine(request.message).replace(/\p{Cc}/gu, ' ') || 'checkpoint';
  const saved = await saveCopy(fleet, facts, {
    ref,
    tree: (view) => (profile === null ? hostFilesTree(fleet, view) : containerFilesTree(fleet, index, profile, view)),
    message: (state) => checkpointMessage(message, state),
    skip: async (state, view) => (previous !== null && sameState(previous, state)) || (await request.skip?.(state, view)) === true,
  });
  if (saved === null) return null;
  const { state } = saved;
  return {
    name,
    ref,
    commit: saved.commit,
    message,
    readIn: profile ?? 'host',
    head: state.head,
    headRef: state.headRef,
    stagedTree: state.stagedTree,
    tree: state.tree,
    branches: new Map(state.branches),
  };
}
