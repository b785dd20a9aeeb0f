import { DevkitError } from '../errors.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentBranch, agentName } from '../fleet/layout.js';
import { branchRef, headState, resolveCommit } from '../git/repo.js';
import type { Git, GitCall } from '../git/git.js';
import { syncRef } from './remote-sync.js';
import { backupsRepo } from './backups-repo.js';
import { blankCopyFacts, headBranch, type CopyFacts } from './copy.js';
import { refreshQuarantine } from './copy-git.js';
import { RadarCache } from './radar-cache.js';
import { snapshotStore, takeSnapshot } from './snapshot.js';

/**
 * What agent K would bring: its snapshot (commits and uncommitted work)
 * against its base, the branch its branch tracks (`worktrees init --base`
 * makes it the upstream), else the primary clone's HEAD. Diffed in the
 * snapshot store from their merge base, as `git diff BASE...SNAPSHOT` would.
 */

export type DiffFormat = 'patch' | 'stat' | 'name-only';

/** Agent K's base: the upstream of its checked-out branch or of agentK/main in the shared repo, else the primary clone's HEAD. */
async function baseOf(fleet: Fleet, facts: CopyFacts): Promise<{ label: string; commit: string }> {
  for (const branch of new Set([headBranch(facts), agentBranch(facts.index)])) {
    if (branch === null) continue;
    const upstream = await branchRef(fleet.shared.git, `refs/heads/${branch}@{upstream}`);
    const commit = upstream === null ? null : await resolveCommit(fleet.shared.git, upstream);
    if (upstream !== null && commit !== null) return { label: upstream.replace(/^refs\/(heads|remotes)\//, ''), commit };
  }
  const head = await headState(fleet.shared.git);
  if (head.commit === null)
    throw new DevkitError(`${agentName(facts.index)} has no base: its branch tracks none and ${fleet.shared.top} has no commit`);
  return { label: head.branch?.replace(/^refs\/heads\//, '') ?? head.commit.slice(0, 12), commit: head.commit };
}

/** `git diff` output of what agent K would bring, in `format`. The copy must read as devkit made it. */
export async function agentDiff(fleet: Fleet, facts: CopyFacts, format: DiffFormat): Promise<string> {
  const name = agentName(facts.index);
  if (facts.state !== 'ok')
    throw new DevkitError(`${name}'s copy is ${facts.state}${facts.problems.length > 0 ? ` (${facts.problems.join('; ')})` : ''}`);
  refreshQuarantine(fleet, facts.index);
  const store = snapshotStore(fleet);
  const cache = RadarCache.load(store.dir);
  const snapshot = await takeSnapshot(fleet, store, facts, { dirty: null, last: cache.snapshot(facts.index) });
  if (snapshot === null) throw new DevkitError(`${name}'s copy has no commit yet`);
  if (snapshot.record !== null) cache.setSnapshot(facts.index, snapshot.record);
  cache.save(false);
  return diffFromBase(fleet, facts, { git: store.git, call: store.withAgents([facts.index]), snapshot: snapshot.commit }, format);
}

/** `git diff BASE...SNAPSHOT` in `where.git` (a repository holding the snapshot and borrowing the shared objects). */
async function diffFromBase(
  fleet: Fleet,
  facts: CopyFacts,
  where: { git: Git; call: GitCall; snapshot: string },
  format: DiffFormat,
): Promise<string> {
  const base = await baseOf(fleet, facts);
  const fork = await where.git.result(['merge-base', base.commit, where.snapshot], where.call);
  if (fork.exitCode !== 0) throw new DevkitError(`${agentName(facts.index)}'s work shares no history with its base ${base.label}`);
  const flags = format === 'stat' ? ['--stat'] : format === 'name-only' ? ['--name-only'] : [];
  const args = ['diff', '--no-color', '--no-ext-diff', '--no-textconv', ...flags, fork.stdout.trim(), where.snapshot, '--'];
  return where.git.run(args, where.call);
}

/** The diff of an agent on a remote engine: its snapshot as the sync before this brought it to devkit's backups repo. */
export async function remoteAgentDiff(fleet: Fleet, index: number, format: DiffFormat): Promise<string> {
  const backups = await backupsRepo(fleet);
  const snapshot = await resolveCommit(backups, syncRef(index));
  if (snapshot === null)
    throw new DevkitError(`${agentName(index)}'s copy has not been synced yet: start it (devkit -p ${agentName(index)} up)`);
  return diffFromBase(fleet, blankCopyFacts(index), { git: backups, call: {}, snapshot }, format);
}
