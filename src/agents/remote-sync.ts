import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { backupsRepo } from './backups-repo.js';
import { blankCopyFacts } from './copy.js';
import { copyGitTimeoutMs } from './copy-git.js';
import { apply, plan, sharedRefs, type SyncOutcome } from './sync-plan.js';
import { connectEndpoint } from '../docker/engine-api.js';
import { STACK_IMAGES } from '../docker/images.js';
import { DevkitError } from '../errors.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentName, agentNamespace } from '../fleet/layout.js';
import type { Git } from '../git/git.js';
import { fetchChecked, presentObjects, resolveCommit } from '../git/repo.js';
import type { AgentEngine } from '../fleet/engines.js';
import { readRemoteCopy } from './remote-read.js';
import { agentVolumes } from '../stack/project-names.js';

/**
 * `devkit sync K` for an agent on a remote engine: its branches under
 * agentK/ come into the shared repo as a local agent's do (sync.ts decides
 * what moves; a branch it deleted is kept when its commits are on no other),
 * from a git bundle its engine sends; a snapshot of its uncommitted work goes
 * to refs/devkit/sync/agentK in devkit's backups repo (state folder), never
 * into the shared repo, which every agent can read.
 */

/** Where the snapshot of agent K's uncommitted work is kept, in backups.git. */
export function syncRef(index: number): string {
  return `refs/devkit/sync/${agentName(index)}`;
}

export interface RemoteSyncOutcome extends SyncOutcome {
  /** The commit holding its uncommitted work (tracked and untracked files on top of HEAD), or null before its copy was made. */
  snapshot: string | null;
  /** The snapshot holds changes: its files differ from HEAD's (or there is no HEAD and it has files). */
  dirty: boolean;
  /** Files the snapshot changes against HEAD: new ones (untracked or staged as new) and the rest (modified, deleted). */
  changes: { modified: number; untracked: number } | null;
}

/** What a snapshot changes against its parent (HEAD): files added (untracked, or new and staged) and the others. */
async function snapshotChanges(git: Git, snapshot: string): Promise<{ modified: number; untracked: number }> {
  const parent = await git.result(['rev-parse', '-q', '--verify', `${snapshot}^1^{commit}`]);
  const args = parent.exitCode === 0 ? [parent.stdout.trim(), snapshot] : ['--root', snapshot];
  const lines = (await git.run(['diff-tree', '-r', '--no-commit-id', '--name-status', '--no-renames', ...args])).split('\n');
  const statuses = lines.filter((line) => line !== '').map((line) => line[0]);
  return { untracked: statuses.filter((s) => s === 'A').length, modified: statuses.filter((s) => s !== 'A').length };
}

/** Fetches a bundle's refs into `git`, every object checked; the bundle goes through a file in devkit's temp folder. */
async function fetchBundle(fleet: Fleet, git: Git, bundle: Buffer, refspecs: readonly string[]): Promise<void> {
  const file = path.join(fleet.state.tmpDir, `sync-${process.pid}-${Date.now()}.bundle`);
  writeFileSync(file, bundle, { mode: 0o600 });
  try {
    await fetchChecked(git, file, refspecs, copyGitTimeoutMs(fleet.env, 'work'));
  } finally {
    rmSync(file, { force: true });
  }
}

/** Moves refs to commits `git` has already (a branch reset to an older commit needs no objects). */
async function moveToPresent(git: Git, updates: ReadonlyMap<string, string>): Promise<void> {
  const present = await presentObjects(git, [...updates.values()]);
  for (const [ref, id] of updates) {
    if (!present.has(id)) throw new DevkitError(`${ref} points at ${id.slice(0, 12)}, which its engine did not send`);
    await git.mutate(['update-ref', ref, `${id}^{commit}`]);
  }
}

/**
 * Brings agent K's work home from its engine. The caller holds the fleet
 * lock. Throws one line when the engine does not answer. `whole`: the
 * snapshot holds every file of the copy, ignored ones and nested
 * repositories too (before a removal).
 */
export async function syncRemoteAgent(
  fleet: Fleet,
  index: number,
  engine: AgentEngine,
  options: { whole?: boolean } = {},
): Promise<RemoteSyncOutcome> {
  const api = await connectEndpoint(engine.endpoint);
  if ((await api.inspectVolume(agentVolumes(fleet.config, index).copy)) === null) {
    // Not seeded yet (no up there): nothing to bring home.
    return { ...(await apply(fleet, plan(blankCopyFacts(index), new Map()))), snapshot: null, dirty: false, changes: null };
  }
  const backups = await backupsRepo(fleet);
  const shared = await sharedRefs(fleet);
  const lastSnapshot = await resolveCommit(backups, syncRef(index));
  const known = [...shared].filter(([ref]) => ref.startsWith(agentNamespace(index))).map(([, id]) => id);
  const read = await readRemoteCopy(fleet, api, {
    index,
    known: lastSnapshot === null ? known : [...known, lastSnapshot],
    image: STACK_IMAGES[0].tag,
    whole: options.whole,
  });
  const facts = { ...blankCopyFacts(index), branches: read.branches, refs: new Map(read.branches) };
  const outcome = await apply(fleet, plan(facts, shared), async (updates) => {
    if (read.branchBundle === null) return moveToPresent(fleet.shared.git, updates);
    await fetchBundle(
      fleet,
      fleet.shared.git,
      read.branchBundle,
      [...updates.keys()].map((ref) => `+${ref}:${ref}`),
    );
  });
  if (read.snapshotBundle !== null) await fetchBundle(fleet, backups, read.snapshotBundle, [`+refs/devkit/sync:${syncRef(index)}`]);
  else if (lastSnapshot !== read.snapshot) await moveToPresent(backups, new Map([[syncRef(index), read.snapshot]]));
  const changes = await snapshotChanges(backups, read.snapshot);
  const dirty = changes.modified + changes.untracked > 0;
  return { ...outcome, outside: read.outside, snapshot: read.snapshot, dirty, changes };
}
