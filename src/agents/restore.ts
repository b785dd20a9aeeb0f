import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DevkitError, UsageError, oneLine } from '../errors.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentPaths } from '../fleet/layout.js';
import { readAgentRecords, requireAgent } from '../fleet/records.js';
import type { Git } from '../git/git.js';
import { OBJECT_ID } from '../git/refs.js';
import { branches as sharedBranches } from '../git/repo.js';
import type { SavedState } from './backup.js';
import { backupsRepo } from './backups-repo.js';
import { checkpointAgent, checkpointPrefix, parseCheckpoint, sameState, type Checkpoint, type CheckpointState } from './checkpoint.js';
import { readCopy } from './copy.js';
import { provisionIndexes, resolveBase } from './provision.js';
import { runAsAgent, writerProfiles } from './writers.js';

/** A saved state of agent K that restore can bring back: one of its checkpoints, or a removal backup. */
export interface Restorable extends CheckpointState {
  kind: 'checkpoint' | 'backup';
  /** As `checkpoints K` lists it: `<time>` for a checkpoint, `backup/<time>` for a backup. */
  name: string;
  ref: string;
  commit: string;
  time: string;
  message: string;
}

function backupPrefix(index: number): string {
  return `refs/devkit/backup/agent${index}/`;
}

// What saveCopy calls the commit of a copy's staged state (the second parent of a backup).
const STAGED_SUBJECT = /^devkit backup of agent\d+: staged changes$/;

/**
 * What a removal backup holds, as a state to restore: its files (the tree
 * without .devkit-backup/, whose tars stay in the backup), HEAD (its first
 * parent) on the agent's branch, and the staged state when it saved one.
 */
async function backupState(backups: Git, index: number, commit: string): Promise<CheckpointState> {
  const parents = (await backups.run(['rev-list', '--parents', '-n', '1', commit])).trim().split(' ').slice(1);
  const listing = await backups.run(['ls-tree', '-z', commit]);
  const kept = listing
    .split('\0')
    .filter((entry) => entry !== '' && !entry.endsWith('\t.devkit-backup'))
    .join('\0');
  const tree = (await backups.run(['mktree', '-z'], { input: kept === '' ? '' : `${kept}\0` })).trim();
  const head = parents[0] ?? null;
  let stagedTree = head === null ? null : (await backups.run(['rev-parse', `${head}^{tree}`])).trim();
  const second = parents[1];
  if (second !== undefined && STAGED_SUBJECT.test((await backups.run(['show', '-s', '--format=%s', second])).trim()))
    stagedTree = (await backups.run(['rev-parse', `${second}^{tree}`])).trim();
  const headRef = `refs/heads/agent${index}/main`;
  return { head, headRef: head === null ? null : headRef, stagedTree, tree, branches: new Map() };
}

/** Agent K's checkpoints and removal backups (not HOME backups), newest first. */
export async function listRestorable(fleet: Fleet, index: number): Promise<Restorable[]> {
  const backups = await backupsRepo(fleet);
  const out = await backups.run([
    'for-each-ref',
    '--format=%(refname)%00%(objectname)%00%(tree)%00%(committerdate:iso-strict)%00%(contents)%00',
    checkpointPrefix(index),
    backupPrefix(index),
  ]);
  const fields = out.split('\0');
  const found: Restorable[] = [];
  for (let i = 0; i + 4 < fields.length; i += 5) {
    const [ref = '', commit = '', tree = '', time = '', contents = ''] = fields.slice(i, i + 5).map((f, n) => (n === 0 ? f.trim() : f));
    const subject = contents.split('\n')[0] ?? '';
    if (ref.startsWith(checkpointPrefix(index))) {
      const state = parseCheckpoint(tree, contents);
      if (state !== null)
        found.push({ kind: 'checkpoint', name: ref.slice(checkpointPrefix(index).length), ref, commit, time, message: subject, ...state });
    } else if (!ref.endsWith('-home')) {
      const head = (await backups.run(['rev-list', '--parents', '-n', '1', commit])).trim().split(' ')[1] ?? null;
      const name = `backup/${ref.slice(backupPrefix(index).length)}`;
      found.push({
        kind: 'backup',
        name,
        ref,
        commit,
        time,
        message: subject,
        head,
        headRef: null,
        stagedTree: null,
        tree,
        branches: new Map(),
      });
    }
  }
  return found.sort((a, b) => (a.time === b.time ? (a.ref < b.ref ? 1 : -1) : a.time < b.time ? 1 : -1));
}

/** NAME as the user gave it (`<time>`, `backup/<time>`, or a full ref of agent K's), resolved with its state; unknown is bad input. */
export async function findRestorable(fleet: Fleet, index: number, name: string): Promise<Restorable> {
  const all = await listRestorable(fleet, index);
  const found = all.find((r) => r.name === name || r.ref === name);
  if (found === undefined) {
    const newest = all[0]?.name;
    throw new UsageError(
      `agent ${index} has no checkpoint or backup ${JSON.stringify(name)}: ` +
        (newest === undefined ? `it has none (make one with devkit checkpoint ${index})` : `devkit checkpoints ${index} lists them`),
    );
  }
  if (found.kind === 'backup') return { ...found, ...(await backupState(await backupsRepo(fleet), index, found.commit)) };
  return found;
}

/**
 * The objects of `target` the copy may lack, as a pack: its commit (and so
 * everything it holds), and its files tree, which for a removal backup is
 * one backupState made and no commit holds. What the shared branches hold
 * is left out (the copy borrows the shared store, where the container's git
 * finds those).
 */
async function packFor(fleet: Fleet, target: Restorable): Promise<Buffer> {
  const backups = await backupsRepo(fleet);
  const shared = [...(await sharedBranches(fleet.shared.git)).values()].map((info) => `^${info.id}`);
  const dir = mkdtempSync(path.join(fleet.state.tmpDir, 'restore-'));
  try {
    const hash = (
      await backups.run(['pack-objects', '--revs', '--quiet', path.join(dir, 'pack')], {
        input: `${[target.commit, target.tree, ...shared].join('\n')}\n`,
      })
    ).trim();
    return readFileSync(path.join(dir, `pack-${hash}.pack`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Run by the agent's own git in its container, the pack on stdin. Sets the
 * branch tips, HEAD (on its branch, or detached), then the files: everything
 * not ignored is put in the index so that reading the saved files tree in
 * removes what the saved state does not have and writes what it has (ignored
 * files it does not have stay, build output above all); then the index
 * becomes the saved staged tree. Agent K's HOME (.devhome) is never touched.
 */
const CONTAINER_RESTORE = `set -e
files=$1 staged=$2 head=$3 headref=$4; shift 4
git index-pack --stdin > /dev/null
while [ $# -ge 2 ]; do git update-ref "$1" "$2"; shift 2; done
if [ "$head" != none ]; then
  if [ "$headref" != none ]; then git update-ref "$headref" "$head" && git symbolic-ref HEAD "$headref"
  else git update-ref --no-deref HEAD "$head"; fi
fi
git add --all -- .
git rm -r -q --cached --ignore-unmatch -- .devhome
git read-tree --reset -u "$files"
if [ "$staged" != none ]; then git read-tree "$staged"; fi
git update-index -q --refresh > /dev/null || true`;

export interface RestoreResult {
  index: number;
  name: string;
  restored: Restorable;
  /** The checkpoint of what the copy held before, when it held anything the restore would overwrite. */
  saved: Checkpoint | null;
  /** The container whose git wrote the copy. */
  profile: string;
  /** True when the copy was gone and was made again first. */
  remade: boolean;
}

/** True when the copy holds nothing a restore of `target` could lose: no changes, and HEAD and branches as in `target`. */
async function nothingToLose(state: SavedState, target: CheckpointState, view: { git: Git }): Promise<boolean> {
  if (sameState(state, target)) return true;
  // A removal backup knows HEAD alone (its branches are in its .git tar): only that is compared.
  const branches = target.branches.size === 0 ? new Map<string, string>() : state.branches;
  const sameRefs = sameState({ ...state, tree: '', stagedTree: null, branches }, { ...target, tree: '', stagedTree: null });
  if (!sameRefs || state.head === null) return false;
  const headTree = (await view.git.run(['rev-parse', `${state.head}^{tree}`])).trim();
  return state.tree === headTree && state.stagedTree === headTree;
}

/**
 * `devkit restore K NAME`: brings a checkpoint (or a removal backup) back
 * into agent K's copy, through the agent's own git inside its running
 * container: the host never writes the agent-writable copy while a container
 * can. What the copy holds first is checkpointed (unless it holds nothing to
 * lose), and said so. A copy that is gone is made again first. The caller
 * holds the fleet lock.
 */
export async function restoreAgent(fleet: Fleet, index: number, name: string): Promise<RestoreResult> {
  if (index === 1) throw new UsageError('agent 1 is the primary clone: restore is for agents 2 and up');
  // A removed agent comes back from its removal backups; any other unknown agent is bad input.
  if (!readAgentRecords(fleet.state).has(index) && !(await listRestorable(fleet, index)).some((r) => r.kind === 'backup'))
    requireAgent(fleet.state, index);
  const target = await findRestorable(fleet, index, name);
  const agent = agentPaths(fleet.config, index);
  let remade = false;
  if (readCopy(fleet.config, fleet.shared.gitDir, index).state === 'missing') {
    await provisionIndexes(fleet, [index], await resolveBase(fleet, undefined));
    remade = true;
  }
  const profile = (await writerProfiles(fleet, index))[0];
  if (profile === undefined) {
    throw new DevkitError(
      `${remade ? `made ${agent.name}'s copy again; ` : ''}${agent.name}'s container is not running, and devkit restores through it: ` +
        `start it with devkit -p ${agent.name} up, then run devkit restore ${index} ${name} again`,
    );
  }
  const saved = remade
    ? null
    : await checkpointAgent(fleet, {
        index,
        message: `before restoring ${target.name}`,
        skip: (state, view) => nothingToLose(state, target, view),
      });
  const pack = await packFor(fleet, target);
  const args = [
    target.tree,
    target.stagedTree ?? 'none',
    target.head ?? 'none',
    target.headRef ?? 'none',
    ...[...target.branches].flatMap(([ref, id]) => (ref.startsWith('refs/heads/') && OBJECT_ID.test(id) ? [ref, id] : [])),
  ];
  const result = await runAsAgent(fleet, index, profile, ['sh', '-c', CONTAINER_RESTORE, 'devkit-restore', ...args], pack);
  if (result.code !== 0) {
    const kept = saved === null ? '' : ` (what it held is in checkpoint ${saved.name})`;
    throw new DevkitError(
      `restoring ${target.name} in ${agent.name}'s ${profile} container failed${kept}: ${oneLine(result.stderr) || `exit ${result.code}`}`,
    );
  }
  return { index, name: target.name, restored: target, saved, profile, remade };
}
