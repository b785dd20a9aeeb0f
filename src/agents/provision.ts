import { randomBytes } from 'node:crypto';
import { existsSync, lchownSync, lstatSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DevkitError, UsageError } from '../errors.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentName, agentPaths, type AgentPaths } from '../fleet/layout.js';
import { agentOwner, ownerToSet, type Owner } from '../fleet/owner.js';
import { agentEngine } from '../fleet/engines.js';
import { agentVolumes } from '../stack/project-names.js';
import { readAgentRecords, writeAgentRecord } from '../fleet/records.js';
import { childPath, lstatIn, openDirIn, openSafeDir, pinnedPath, setDirOwner, writeFileIn, type SafeDir } from '../fs/safe.js';
import type { HeadRef } from '../git/refs.js';
import { branchRef, configGet, headState, refExists, refsUnder, resolveCommit, shortBranch } from '../git/repo.js';
import { alternatesText, blankCopyFacts, readCopy } from './copy.js';
import { objectFormat, withCopyView } from './copy-git.js';
import { agentGitIdentity, hostGitIdentity } from '../fleet/git-identity.js';
import { checkIncludeFile, includedFiles } from './include.js';
import { copyIncluded, type IncludedCopy } from './include-copy.js';
import { addDevhomeExcludes, ensureDevhome, ensureDevhomeExcluded, homeExists } from './devhome.js';

/** Where new agent branches start. */
export interface BaseRef {
  /** What to hand to git: a branch name when the base is a branch, else a commit id. */
  startPoint: string;
  /** The base branch's full ref when the base is a local branch: it becomes the agent branch's upstream. */
  upstream: string | null;
  /** For messages. */
  label: string;
}

/** `--base REF`, or the primary clone's current branch (or commit, when detached). */
export async function resolveBase(fleet: Fleet, requested: string | undefined): Promise<BaseRef> {
  const git = fleet.shared.git;
  if (requested === undefined) {
    const head = await headState(git);
    if (head.commit === null)
      throw new UsageError(`${fleet.shared.top} has no commits yet: commit something first, agents' branches start from it`);
    if (head.branch === null) return { startPoint: head.commit, upstream: null, label: head.commit.slice(0, 12) };
    return { startPoint: shortBranch(head.branch), upstream: head.branch, label: shortBranch(head.branch) };
  }
  if (requested.startsWith('-') || requested.includes('\0')) throw new UsageError(`--base ${JSON.stringify(requested)} is not a ref`);
  const commit = await resolveCommit(git, requested);
  if (commit === null) throw new UsageError(`--base ${requested}: no such commit, branch or tag in ${fleet.shared.top}`);
  const branch = await branchRef(git, requested);
  if (branch === null) return { startPoint: commit, upstream: null, label: requested };
  return { startPoint: branch.replace(/^refs\/(heads|remotes)\//, ''), upstream: branch, label: requested };
}

export type AgentAction = 'created' | 'present' | 'devhome-created';

export interface ProvisionedAgent {
  index: number;
  name: string;
  worktree: string;
  devhome: string;
  branch: string | null;
  action: AgentAction;
  /** The include file's files put in the copy made now; null when no copy was made or there is no include file. */
  included: IncludedCopy | null;
}

export interface ProvisionResult {
  agents: ProvisionedAgent[];
  /** True when anything on disk or in the repo changed. */
  changed: boolean;
}

/** Refuses, before anything changes, every agent that cannot be made as asked. */
async function checkCanProvision(fleet: Fleet, agents: readonly AgentPaths[]): Promise<void> {
  const records = readAgentRecords(fleet.state);
  const primaryBranch = (await headState(fleet.shared.git)).branch;
  for (const agent of agents) {
    if (agent.branch === null || records.has(agent.index)) continue;
    if (readCopy(fleet.config, fleet.shared.gitDir, agent.index).state !== 'missing') {
      throw new DevkitError(
        `${agent.worktree} exists but is not an agent copy devkit made: move it away (it may hold work), or see devkit worktrees prune`,
      );
    }
    if (primaryBranch === `refs/heads/${agent.branch}`) {
      throw new DevkitError(`branch ${agent.branch} is checked out in ${fleet.shared.top}: switch that copy to another branch first`);
    }
  }
}

/** The shared branch agentK/main: made from the base (tracking it) unless an earlier agent K left it. */
async function ensureAgentBranch(fleet: Fleet, agent: AgentPaths & { branch: string }, base: BaseRef): Promise<string> {
  const git = fleet.shared.git;
  const ref = `refs/heads/${agent.branch}`;
  if (!(await refExists(git, ref))) {
    const track = base.upstream?.startsWith('refs/heads/') ? '--track' : '--no-track';
    await git.mutate(['branch', '--quiet', track, '--end-of-options', agent.branch, base.startPoint]);
  }
  return (await git.run(['rev-parse', '--verify', `${ref}^{commit}`])).trim();
}

/** The copy's own config: a plain repository whose origin is the shared repo (read-only inside containers). */
function copyConfig(fleet: Fleet, agent: AgentPaths & { branch: string }, upstream: string | null, format: string): string {
  const extensions = format === 'sha1' ? '' : `[extensions]\n\tobjectFormat = ${format}\n`;
  const tracking = upstream === null ? '' : `[branch "${agent.branch}"]\n\tremote = origin\n\tmerge = ${upstream}\n`;
  return (
    `[core]\n\trepositoryformatversion = ${extensions === '' ? 0 : 1}\n` +
    '\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n' +
    extensions +
    `[remote "origin"]\n\turl = ${fleet.shared.gitDir}\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n` +
    // Pushing to the shared repo cannot work (read-only); the devkit remote helper in the dev image says why.
    `\tpushurl = devkit::${agent.name}\n${tracking}`
  );
}

/** Gives everything below a folder to the agent's uid (devkit as root), never following a link. */
function chownBelow(dir: string, owner: Owner): void {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    lchownSync(full, owner.uid, owner.gid);
    if (lstatSync(full).isDirectory()) chownBelow(full, owner);
  }
}

/** Gives a copy devkit made (or moved) to the agent's uid: the folder through its descriptor, then what it holds. */
function chownCopy(copy: SafeDir, owner: Owner): void {
  setDirOwner(copy, owner);
  chownBelow(pinnedPath(copy), owner);
}

/** What a copy's own .git starts with: its HEAD, its branches (full ref to commit), and what its branch tracks. */
interface GitDirSpec {
  head: HeadRef;
  refs: ReadonlyMap<string, string>;
  upstream: string | null;
}

/** Writes the .git folder of a copy into `git` (a folder devkit just made). */
async function writeGitDir(fleet: Fleet, git: SafeDir, agent: AgentPaths & { branch: string }, spec: GitDirSpec): Promise<void> {
  const made = (parent: SafeDir, name: string): SafeDir => {
    const dir = openDirIn(parent, name, { create: { mode: 0o755 } });
    if (dir === null) throw new DevkitError(`cannot make ${path.join(parent.path, name)}`);
    return dir;
  };
  const [objects, refs, info] = [made(git, 'objects'), made(git, 'refs'), made(git, 'info')];
  const [objectsInfo, heads, tags] = [made(objects, 'info'), made(refs, 'heads'), made(refs, 'tags')];
  made(objects, 'pack').close();
  try {
    writeFileIn(git, 'HEAD', spec.head.kind === 'branch' ? `ref: ${spec.head.ref}\n` : `${spec.head.commit}\n`);
    writeFileIn(git, 'config', copyConfig(fleet, agent, spec.upstream, objectFormat(fleet)));
    writeFileIn(git, 'description', `devkit copy of ${agent.name}\n`);
    writeFileIn(objectsInfo, 'alternates', alternatesText(fleet.shared.gitDir));
    writeFileIn(info, 'exclude', addDevhomeExcludes('') ?? '');
    // Its own branches loose; every shared branch as origin's, so the agent reads them at once (git fetch origin refreshes them).
    const branches = await refsUnder(fleet.shared.git, 'refs/heads/');
    const own = [...spec.refs].map(([ref, id]) => `${id} ${ref}\n`);
    const origin = [...branches].map(([ref, id]) => `${id} refs/remotes/origin/${ref.slice('refs/heads/'.length)}\n`);
    const byName = (line: string): string => line.slice(line.indexOf(' ') + 1);
    const sorted = [...own, ...origin].sort((a, b) => (byName(a) < byName(b) ? -1 : 1));
    writeFileIn(git, 'packed-refs', `# pack-refs with: peeled fully-peeled sorted \n${sorted.join('')}`);
  } finally {
    for (const dir of [tags, heads, objectsInfo, info, refs, objects]) dir.close();
  }
}

/** The tip of a shared branch, or null. */
async function sharedTip(fleet: Fleet, ref: string): Promise<string | null> {
  const result = await fleet.shared.git.result(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  return result.exitCode === 0 ? result.stdout.trim() : null;
}

/**
 * Turns agent K's 0.1.0 worktree into a copy of its own, in place: a .git
 * folder of its own (HEAD as the worktree had it, its branches at their shared
 * tips, the worktree's index) is built beside the worktree's .git file and
 * swapped in for it. Files are not touched (given to the agents' uid when devkit
 * runs as root, as 0.1.0 made them root's). The caller removes the old admin folder.
 */
export async function convertWorktree(fleet: Fleet, index: number, old: { head: HeadRef; index: string }): Promise<void> {
  const agent = agentPaths(fleet.config, index);
  if (agent.branch === null) throw new DevkitError('agent 1 is the primary clone: it is no worktree');
  const refs = new Map<string, string>();
  for (const ref of [`refs/heads/${agent.branch}`, ...(old.head.kind === 'branch' ? [old.head.ref] : [])]) {
    const tip = await sharedTip(fleet, ref);
    if (tip !== null) refs.set(ref, tip);
  }
  const upstream = (await configGet(fleet.shared.git, `branch.${agent.branch}.merge`)) ?? null;
  const copy = openSafeDir(fleet.config.root, agent.rel.worktree);
  if (copy === null) throw new DevkitError(`${agent.worktree} is gone`);
  const fresh = `.devkit-git-${randomBytes(6).toString('hex')}`;
  try {
    const git = openDirIn(copy, fresh, { create: { mode: 0o755 } });
    if (git === null) throw new DevkitError(`cannot make ${path.join(agent.worktree, fresh)}`);
    try {
      await writeGitDir(fleet, git, { ...agent, branch: agent.branch }, { head: old.head, refs, upstream });
      if (existsSync(old.index)) writeFileIn(git, 'index', readFileSync(old.index));
    } finally {
      git.close();
    }
    const pointer = `.devkit-0.1.0-git-file-${randomBytes(6).toString('hex')}`;
    renameSync(pinnedPath(copy, '.git'), pinnedPath(copy, pointer));
    renameSync(pinnedPath(copy, fresh), pinnedPath(copy, '.git'));
    rmSync(pinnedPath(copy, pointer), { force: true });
    const owner = ownerToSet();
    if (owner !== null) {
      chownCopy(copy, owner);
      // 0.1.0 ran agents as root when devkit ran as root: their HOMEs go to the agents' uid too.
      const home = openSafeDir(fleet.config.root, agent.rel.devhome);
      if (home !== null) {
        chownCopy(home, owner);
        home.close();
      }
    }
  } finally {
    rmSync(pinnedPath(copy, fresh), { recursive: true, force: true });
    copy.close();
  }
  if (!readAgentRecords(fleet.state).has(index))
    writeAgentRecord(fleet.state, { index, name: agentName(index), createdAt: new Date().toISOString(), owner: agentOwner() });
}

/**
 * Makes agent K's copy (K >= 2): a repository of its own at <root>/agentK/<repo>
 * on branch agentK/main, borrowing the shared objects (nothing copied). It is
 * built in a staging folder beside it and renamed into place, so a killed run
 * leaves no half copy at the agent's path. Its files are checked out through
 * a view (copy-git.ts): git never runs with the new .git as its repository.
 */
async function makeCopy(
  fleet: Fleet,
  agent: AgentPaths & { branch: string },
  base: BaseRef,
  include: readonly string[],
): Promise<IncludedCopy> {
  const tip = await ensureAgentBranch(fleet, agent, base);
  const upstream = (await configGet(fleet.shared.git, `branch.${agent.branch}.merge`)) ?? null;
  const dir = openSafeDir(fleet.config.root, agent.rel.dir, { create: { mode: 0o755 } });
  if (dir === null) throw new DevkitError(`cannot make ${agent.dir}`);
  const staging = `.devkit-new-${randomBytes(6).toString('hex')}`;
  let included: IncludedCopy = { copied: 0, skipped: [] };
  try {
    const copy = openDirIn(dir, staging, { create: { mode: 0o755 } });
    if (copy === null) throw new DevkitError(`cannot make ${path.join(agent.dir, staging)}`);
    try {
      const git = openDirIn(copy, '.git', { create: { mode: 0o755 } });
      if (git === null) throw new DevkitError(`cannot make ${path.join(agent.dir, staging, '.git')}`);
      try {
        await writeGitDir(fleet, git, agent, {
          head: { kind: 'branch', ref: `refs/heads/${agent.branch}` },
          refs: new Map([[`refs/heads/${agent.branch}`, tip]]),
          upstream,
        });
        // The copy devkit is making: nothing of it read yet, and no index until the view writes one.
        await withCopyView(fleet, blankCopyFacts(agent.index), { head: tip, withIndex: false, withObjects: false }, async (view) => {
          const work = childPath(copy);
          await view.git.at(work, [`--git-dir=${view.gitDir}`, `--work-tree=${work}`]).run(['read-tree', '-u', '--reset', 'HEAD']);
          writeFileIn(git, 'index', readFileSync(path.join(view.gitDir, 'index')));
        });
      } finally {
        git.close();
      }
      if (include.length > 0) included = withPrimaryClone(fleet, (primary) => copyIncluded(primary, copy, include));
      const owner = ownerToSet();
      if (owner !== null) chownCopy(copy, owner);
    } finally {
      copy.close();
    }
    if (lstatIn(dir, path.basename(agent.worktree)) !== null)
      throw new DevkitError(`${agent.worktree} appeared while devkit made it: moved nothing`);
    renameSync(pinnedPath(dir, staging), pinnedPath(dir, path.basename(agent.worktree)));
  } finally {
    rmSync(pinnedPath(dir, staging), { recursive: true, force: true });
    dir.close();
  }
  return included;
}

/** Runs `body` with the primary clone's work tree open (the dev root is trusted; below it nothing is followed). */
function withPrimaryClone<T>(fleet: Fleet, body: (primary: SafeDir) => T): T {
  const primary = openSafeDir(fleet.config.root, fleet.config.repo);
  if (primary === null) throw new DevkitError(`${fleet.shared.top} is gone`);
  try {
    return body(primary);
  } finally {
    primary.close();
  }
}

/**
 * `worktrees init N` and team members: afterwards the agents named exist.
 * Idempotent: what exists is kept as it is, only what is missing is made (a
 * branch or HOME kept from an earlier remove is reused). The caller holds the
 * fleet lock.
 */
export async function provisionIndexes(fleet: Fleet, indexes: readonly number[], base: BaseRef): Promise<ProvisionResult> {
  const agents = indexes.map((index) => agentPaths(fleet.config, index));
  await checkCanProvision(fleet, agents);
  const records = readAgentRecords(fleet.state);
  // Where each agent's copy goes: under the dev root, or in volumes on a remote engine (made there at its first up).
  const engines = new Map(agents.map((agent) => [agent.index, agentEngine(fleet, agent.index, records.get(agent.index))]));
  const remote = (agent: AgentPaths): boolean => engines.get(agent.index)?.remote === true;
  const making = agents.filter(
    (agent) => agent.branch !== null && !remote(agent) && readCopy(fleet.config, fleet.shared.gitDir, agent.index).state === 'missing',
  );
  // Read before anything changes: a bad include file is refused with nothing made.
  const hasInclude = checkIncludeFile(fleet.workspace.dir) !== null;
  const include = hasInclude && making.length > 0 ? await includedFiles(fleet) : [];
  let changed = false;
  if ((await configGet(fleet.shared.git, 'gc.auto')) !== '0') {
    // A gc in the shared repo could prune what an agent's copy still borrows; devkit runs none, and asks git for none.
    await fleet.shared.git.mutate(['config', 'gc.auto', '0']);
    changed = true;
  }
  changed = ensureDevhomeExcluded(fleet) || changed;
  // The host user's identity goes into new HOMEs only: git is asked only when one will be made.
  const hostIdentity = agents.some((agent) => !remote(agent) && !homeExists(fleet, agent.index)) ? await hostGitIdentity(fleet.git) : {};
  const results: ProvisionedAgent[] = [];
  for (const agent of agents) {
    let action: AgentAction = 'present';
    let included: IncludedCopy | null = null;
    if (agent.branch !== null && making.includes(agent)) {
      const copied = await makeCopy(fleet, { ...agent, branch: agent.branch }, base, include);
      included = hasInclude ? copied : null;
      action = 'created';
    }
    const engine = engines.get(agent.index);
    if (agent.branch !== null && engine?.remote === true && !records.has(agent.index)) {
      await ensureAgentBranch(fleet, { ...agent, branch: agent.branch }, base);
      action = 'created';
    }
    if (agent.branch !== null && !records.has(agent.index)) {
      writeAgentRecord(fleet.state, {
        index: agent.index,
        name: agentName(agent.index),
        createdAt: new Date().toISOString(),
        owner: agentOwner(),
        ...(engine?.remote === true ? { engine: engine.endpoint.context } : {}),
      });
    }
    const identity = agentGitIdentity(fleet.config.git, hostIdentity, agent.index);
    // A remote agent's HOME is a volume on its engine, made with its copy.
    if (!remote(agent) && ensureDevhome(fleet, agent.index, identity) && action === 'present') action = 'devhome-created';
    changed ||= action !== 'present';
    // A remote agent's copy and HOME are volumes on its engine, made at its first up.
    const volumes = remote(agent) ? agentVolumes(fleet.config, agent.index) : null;
    const on = ` (docker context ${engine?.endpoint.context ?? ''})`;
    results.push({
      index: agent.index,
      name: agent.name,
      worktree: volumes === null ? agent.worktree : `${volumes.copy}${on}`,
      devhome: volumes === null ? agent.devhome : `${volumes.home}${on}`,
      branch: agent.branch,
      action,
      included,
    });
  }
  return { agents: results, changed };
}

/** `worktrees init N`: agents 1..N. */
export function provisionAgents(fleet: Fleet, count: number, base: BaseRef): Promise<ProvisionResult> {
  return provisionIndexes(
    fleet,
    Array.from({ length: count }, (_, i) => i + 1),
    base,
  );
}
