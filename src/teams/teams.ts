import { existsSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { backupHome } from '../agents/backup.js';
import { deleteMergedBranches, type BranchesLeft } from '../agents/branches.js';
import { homeAsMade, homeExists, removeHome } from '../agents/devhome.js';
import { agentGitIdentity, hostGitIdentity, type GitIdentity } from '../fleet/git-identity.js';
import { knownIndexes } from '../agents/inspect.js';
import { checkIncludeFile } from '../agents/include.js';
import { includedLines } from '../agents/include-copy.js';
import { provisionIndexes, resolveBase } from '../agents/provision.js';
import { removeAgent, refuseWhileWritable, type RemoveResult } from '../agents/remove.js';
import type { CommandContext } from '../cli/context.js';
import { connectEngine, type EngineApi } from '../docker/engine-api.js';
import { DevkitError, UsageError, oneLine } from '../errors.js';
import { withFleetLock, type Fleet } from '../fleet/fleet.js';
import { agentFolders, agentIndexOfFolder, agentName, agentPaths } from '../fleet/layout.js';
import { refsUnder } from '../git/repo.js';
import { readAgentRecords } from '../fleet/records.js';
import { listIn, lstatIn, openTrustedDir, removeEmptyDirIn, withSafeDir } from '../fs/safe.js';
import { runCompose, waitForComposeUsing } from '../stack/compose.js';
import { removeProjectByLabel } from '../stack/containers.js';
import { hookFailure } from '../hooks/hook-files.js';
import { runPostCreate } from '../hooks/post-create.js';
import { runPreRemove } from '../hooks/pre-remove.js';
import { agentProject } from '../stack/project-names.js';
import { prepareStack, type PreparedStack } from '../stack/prepare.js';
import { resolveProfile, type Profile } from '../stack/profile.js';
import { composeUp, type StackUp } from '../stack/up.js';
import { overlayFile, removeProfileFiles } from '../stack/workspace-files.js';
import { checkName } from '../validate.js';
import { SESSION_ID, deleteTeam, listTeams, readTeam, writeTeam, type TeamMember, type TeamState } from './store.js';

/** The session a team belongs to: --session, else DEVKIT_SESSION, else a new id. */
export function sessionId(requested: string | undefined, env: NodeJS.ProcessEnv): string {
  const id = requested ?? env.DEVKIT_SESSION ?? `devkit-${randomUUID()}`;
  if (!SESSION_ID.test(id)) throw new UsageError(`session id ${JSON.stringify(id)} is not valid: letters, digits, '.', '_', ':' and '-'`);
  return id;
}

/** The agents that have branches in the shared repo (`agentK/...`): kept work of an agent that is gone, say. */
async function indexesWithBranches(fleet: Fleet): Promise<number[]> {
  const refs = await refsUnder(fleet.shared.git, 'refs/heads/');
  return [...refs.keys()]
    .map((ref) => agentIndexOfFolder(ref.slice('refs/heads/'.length).split('/')[0] ?? ''))
    .filter((index): index is number => index !== null);
}

/**
 * Agent indexes nobody holds: no worktree, no team member, no agent folder (a
 * kept HOME is someone's keys), no branch (a new member starts from its base,
 * not on work a destroyed member left).
 */
async function freeIndexes(fleet: Fleet, count: number): Promise<number[]> {
  const taken = new Set<number>([
    ...knownIndexes(fleet).all,
    ...readAgentRecords(fleet.state).keys(),
    ...listTeams(fleet).flatMap((team) => team.members.map((member) => member.index)),
    ...agentFolders(fleet.config.root),
    ...(await indexesWithBranches(fleet)),
  ]);
  const free: number[] = [];
  for (let index = 2; index <= fleet.config.maxAgents && free.length < count; index++) if (!taken.has(index)) free.push(index);
  if (free.length < count)
    throw new DevkitError(
      `only ${free.length} free agent indexes below maxAgents (${fleet.config.maxAgents}): raise it in devkit.yml or destroy a team`,
    );
  return free;
}

export interface CreateTeamRequest {
  name: string;
  count: number;
  session: string;
  base?: string;
}

/**
 * `team create`: N members, each with its own worktree and container. Under
 * one hold of the fleet lock the record is written (before anything is made),
 * the copies are made and every member's stack is prepared; then the members'
 * stacks come up side by side, outside the lock. The record is written again
 * as each member comes up, so it always says which are up: a create killed
 * half-way, or a member that fails, leaves a record that cleanup works from.
 * `onUp` hears each member as it comes up; a member that fails does not stop
 * the others, and the create fails naming it once all have settled.
 */
export async function createTeam(
  fleet: Fleet,
  request: CreateTeamRequest,
  context: CommandContext,
  onUp: (up: StackUp) => void,
): Promise<TeamState> {
  const name = checkName(request.name, 'team name');
  const base = await resolveBase(fleet, request.base);
  const { team, stacks } = await withFleetLock(fleet, context, `team create ${name}`, async () => {
    if (readTeam(fleet, name) !== null) throw new UsageError(`team ${name} exists already: destroy it first, or pick another name`);
    checkIncludeFile(fleet.workspace.dir); // a bad one is refused before the record is written
    const indexes = await freeIndexes(fleet, request.count);
    const planned: TeamState = {
      name,
      session: request.session,
      createdAt: new Date().toISOString(),
      members: indexes.map((index) => ({
        index,
        agent: agentName(index),
        worktree: agentPaths(fleet.config, index).worktree,
        project: agentProject(fleet, index),
        containers: [],
        state: 'planned',
      })),
    };
    writeTeam(fleet, planned);
    const provisioned = await provisionIndexes(fleet, indexes, base);
    for (const agent of provisioned.agents) {
      const included = includedLines(agent.name, agent.included);
      for (const line of included === null ? [] : [`${agent.name}: ${included.count}`, ...included.skipped]) context.io.log(line);
    }
    const prepared: Array<{ member: TeamMember; profile: Profile; stack: PreparedStack }> = [];
    for (const member of planned.members) {
      const profile = resolveProfile(fleet, member.agent);
      prepared.push({ member, profile, stack: await prepareStack(fleet, profile, context.io) });
    }
    return { team: planned, stacks: prepared };
  });
  // One compose of several shows plain lines (a terminal's redrawn progress of eight would overwrite itself).
  const output = context.io.toolOutput ? 'plain' : 'quiet';
  const settled = await Promise.allSettled(
    stacks.map(async ({ member, profile, stack }) => {
      const up = await composeUp(fleet, profile, stack, { output, io: context.io });
      member.containers = up.containers.map((container) => container.name);
      member.state = 'created';
      writeTeam(fleet, team);
      onUp(up);
      // The member stays (its stack is up); a failed hook fails the create, naming it.
      const failure = hookFailure(await runPostCreate(fleet, profile, context.io), 'it runs again on its next up');
      if (failure !== null) throw new DevkitError(failure);
    }),
  );
  const failed = settled.flatMap((result, i) =>
    result.status === 'rejected'
      ? [`${stacks[i]?.member.agent ?? '?'}: ${oneLine(result.reason instanceof Error ? result.reason.message : String(result.reason))}`]
      : [],
  );
  if (failed.length > 0)
    throw new DevkitError(
      `team ${name}: ${failed.join('; ')}; the team record keeps every member: devkit team destroy ${name} removes them`,
    );
  return team;
}

export interface MemberOutcome {
  agent: string;
  removed: boolean;
  /** Why it was left: its work, or a failure; null when removed. */
  problem: string | null;
  backupRef: string | null;
  /** The command that brings the backup back, when there is one. */
  restore: string | null;
  /** Its branches deleted (merged or empty), and those kept because they hold commits of their own. */
  branches: BranchesLeft;
  /** Its HOME: removed, saved to the backups and removed, kept (--keep-homes), or there was none. */
  home: { state: 'removed' | 'saved' | 'kept' | 'none'; backupRef: string | null; restore: string | null };
}

/** Takes a member's stack down: with its overlay when there is one, else by its compose project's labels. */
async function memberDown(fleet: Fleet, member: TeamMember, api: EngineApi): Promise<void> {
  const overlay = overlayFile(fleet.workspace.dir, member.agent);
  await waitForComposeUsing(overlay);
  if (existsSync(overlay)) {
    await runCompose({
      cwd: fleet.workspace.dir,
      files: [`${fleet.workspace.dir}/compose.yml`, overlay],
      args: ['down', '--timeout', '5'],
      quiet: true,
    });
  }
  // Whatever is still there (a create killed before its overlay was written): by label.
  await removeProjectByLabel(api, fleet.config.root, member.project);
}

/**
 * A removed member's HOME: kept with `keepHomes`; else removed, saved first to
 * devkit's backups when it holds anything devkit did not put there (keys,
 * agent CLI state). Its container is down (the caller checked).
 */
async function dropHome(
  fleet: Fleet,
  index: number,
  keepHomes: boolean,
  host: () => Promise<Partial<GitIdentity>>,
): Promise<MemberOutcome['home']> {
  if (!agentFolderHolds(fleet, index, path.basename(agentPaths(fleet.config, index).devhome)))
    return { state: 'none', backupRef: null, restore: null };
  if (keepHomes) return { state: 'kept', backupRef: null, restore: null };
  const identity = agentGitIdentity(fleet.config.git, await host(), index);
  const backup = homeAsMade(fleet, index, identity) ? null : await backupHome(fleet, index, 'team destroy');
  removeHome(fleet, index);
  return backup === null
    ? { state: 'removed', backupRef: null, restore: null }
    : { state: 'saved', backupRef: backup.ref, restore: backup.restore };
}

/** Whether something named `name` is in agent K's folder (a HOME that is a link, say). */
function agentFolderHolds(fleet: Fleet, index: number, name: string): boolean {
  return withSafeDir(fleet.config.root, agentPaths(fleet.config, index).rel.dir, (dir) => lstatIn(dir, name) !== null) === true;
}

/** Removes agent K's folder when nothing is left in it, so its index is free again; else leaves it. */
function removeEmptyAgentFolder(fleet: Fleet, index: number): void {
  const root = openTrustedDir(fleet.config.root);
  try {
    const name = agentPaths(fleet.config, index).rel.dir;
    if (lstatIn(root, name)?.isDirectory() !== true) return;
    const empty = withSafeDir(fleet.config.root, name, (dir) => listIn(dir).length === 0) === true;
    if (empty) removeEmptyDirIn(root, name);
  } finally {
    root.close();
  }
}

export interface DestroyRequest {
  force: boolean;
  /** Keep members' HOMEs (their keys and logins); their indexes stay taken. */
  keepHomes: boolean;
}

/** The flags team destroy and session cleanup share. */
export function destroyRequest(flags: { force?: boolean; keepHomes?: boolean }): DestroyRequest {
  return { force: flags.force === true, keepHomes: flags.keepHomes === true };
}

/**
 * `team destroy`: every member's containers, then its worktree, under the
 * never-lose-work rules (refused when it holds work, unless force, which backs
 * it up first); then its branches that are merged or empty (a branch with
 * commits of its own is kept), its overlay files, its HOME (unless keepHomes;
 * saved first when it holds anything devkit did not put there) and its
 * folder, so its index is free for the next member. A member that fails is
 * reported and the others go on; the record keeps the members left, and goes
 * when none is.
 */
export async function destroyTeam(fleet: Fleet, name: string, request: DestroyRequest, context: CommandContext): Promise<MemberOutcome[]> {
  const team = readTeam(fleet, name);
  if (team === null) {
    const known = listTeams(fleet).map((t) => t.name);
    throw new UsageError(`unknown team ${name} (teams: ${known.length === 0 ? 'none' : known.join(', ')})`);
  }
  // Without an engine no member's container can be known to be down: refuse before anything changes.
  const api = await connectEngine(fleet.env).catch((error: unknown) => {
    throw new DevkitError(
      `the Docker engine does not answer (${error instanceof Error ? error.message : String(error)}): ` +
        `team ${name} is kept; start it and try again`,
    );
  });
  let hostIdentity: Promise<Partial<GitIdentity>> | null = null;
  const host = (): Promise<Partial<GitIdentity>> => (hostIdentity ??= hostGitIdentity(fleet.git));
  return withFleetLock(fleet, context, `team destroy ${name}`, async () => {
    const outcomes: MemberOutcome[] = [];
    for (const member of [...team.members]) {
      let outcome: MemberOutcome;
      try {
        await memberDown(fleet, member, api);
        await refuseWhileWritable(fleet, member.index);
        let removed: RemoveResult | null = null;
        if (readAgentRecords(fleet.state).has(member.index)) {
          const hook = await runPreRemove(fleet, member.index, context.io);
          const failure = hookFailure(hook === null ? [] : [hook], 'member kept, nothing removed');
          if (failure !== null) throw new DevkitError(failure);
          removed = await removeAgent(fleet, { index: member.index, force: request.force, deleteBranch: false });
        }
        const branches = await deleteMergedBranches(fleet, member.index);
        removeProfileFiles(fleet.workspace.dir, member.agent);
        const home = await dropHome(fleet, member.index, request.keepHomes, host);
        removeEmptyAgentFolder(fleet, member.index);
        const backup = removed?.backup ?? null;
        outcome = {
          agent: member.agent,
          removed: true,
          problem: null,
          backupRef: backup?.ref ?? null,
          restore: backup?.restore ?? null,
          branches,
          home,
        };
        team.members = team.members.filter((m) => m.index !== member.index);
      } catch (error) {
        outcome = {
          agent: member.agent,
          removed: false,
          problem: oneLine(error instanceof Error ? error.message : String(error)),
          backupRef: null,
          restore: null,
          branches: { deleted: [], kept: [] },
          home: { state: homeExists(fleet, member.index) ? 'kept' : 'none', backupRef: null, restore: null },
        };
      }
      outcomes.push(outcome);
      if (team.members.length === 0) deleteTeam(fleet, name);
      else writeTeam(fleet, team);
    }
    return outcomes;
  });
}

/** `session cleanup`: destroys every team the session made. */
export async function cleanupSession(
  fleet: Fleet,
  session: string,
  request: DestroyRequest,
  context: CommandContext,
): Promise<Array<{ team: string; members: MemberOutcome[] }>> {
  const teams = listTeams(fleet).filter((team) => team.session === session);
  const results: Array<{ team: string; members: MemberOutcome[] }> = [];
  for (const team of teams) results.push({ team: team.name, members: await destroyTeam(fleet, team.name, request, context) });
  return results;
}
