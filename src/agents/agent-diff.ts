import { DevkitError } from '../errors.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentBranch, agentName } from '../fleet/layout.js';
import { branchRef, headState, resolveCommit } from '../git/repo.js';
import { headBranch, type CopyFacts } from './copy.js';
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
  const base = await baseOf(fleet, facts);
  const call = store.withAgents([facts.index]);
  const fork = await store.git.result(['merge-base', base.commit, snapshot.commit], call);
  if (fork.exitCode !== 0) throw new DevkitError(`${name}'s work shares no history with its base ${base.label}`);
  const flags = format === 'stat' ? ['--stat'] : format === 'name-only' ? ['--name-only'] : [];
  return store.git.run(['diff', '--no-color', '--no-ext-diff', '--no-textconv', ...flags, fork.stdout.trim(), snapshot.commit, '--'], call);
}
