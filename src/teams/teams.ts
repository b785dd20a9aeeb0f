import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { knownIndexes } from '../agents/inspect.js';
import { provisionIndexes, resolveBase } from '../agents/provision.js';
import { removeAgent, refuseWhileWritable, type RemoveResult } from '../agents/remove.js';
import type { CommandContext } from '../cli/context.js';
import { connectEngine, type EngineApi } from '../docker/engine-api.js';
import { DevkitError, UsageError, oneLine } from '../errors.js';
import { withFleetLock, type Fleet } from '../fleet/fleet.js';
import { agentFolders, agentName, agentPaths } from '../fleet/layout.js';
import { readAgentRecords } from '../fleet/records.js';
import { runCompose, waitForComposeUsing } from '../stack/compose.js';
import { removeProjectByLabel } from '../stack/containers.js';
import { agentProject } from '../stack/workspace-files.js';
import { upProfile } from '../stack/up.js';
import { overlayFile, removeProfileFiles } from '../stack/workspace-files.js';
import { checkName } from '../validate.js';
import { SESSION_ID, deleteTeam, listTeams, readTeam, writeTeam, type TeamMember, type TeamState } from './store.js';

/** The session a team belongs to: --session, else DEVKIT_SESSION, else a new id. */
export function sessionId(requested: string | undefined, env: NodeJS.ProcessEnv): string {
  const id = requested ?? env.DEVKIT_SESSION ?? `devkit-${randomUUID()}`;
  if (!SESSION_ID.test(id)) throw new UsageError(`session id ${JSON.stringify(id)} is not valid: letters, digits, '.', '_', ':' and '-'`);
  return id;
}

/** Agent indexes nobody holds: no worktree, no team member, no agent folder (a kept HOME is someone's keys). */
function freeIndexes(fleet: Fleet, count: number): number[] {
  const taken = new Set<number>([
    ...knownIndexes(fleet).all,
    ...readAgentRecords(fleet.state).keys(),
    ...listTeams(fleet).flatMap((team) => team.members.map((member) => member.index)),
    ...agentFolders(fleet.config.root),
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
 * `team create`: N members, each with its own worktree and container. The
 * record is written before anything is made and again after each member, so a
 * create killed half-way leaves a record that cleanup works from.
 */
export async function createTeam(fleet: Fleet, request: CreateTeamRequest, context: CommandContext): Promise<TeamState> {
  const name = checkName(request.name, 'team name');
  const base = await resolveBase(fleet, request.base);
  const team = await withFleetLock(fleet, context, `team create ${name}`, async () => {
    if (readTeam(fleet, name) !== null) throw new UsageError(`team ${name} exists already: destroy it first, or pick another name`);
    const indexes = freeIndexes(fleet, request.count);
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
    await provisionIndexes(fleet, indexes, base);
    return planned;
  });
  for (const member of team.members) {
    const { containers } = await upProfile(fleet, member.agent, context, false);
    member.containers = containers.map((container) => container.name);
    member.state = 'created';
    writeTeam(fleet, team);
  }
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
 * `team destroy`: every member's containers, then its worktree, under the
 * never-lose-work rules (refused when it holds work, unless force, which backs
 * it up first). A member that fails is reported and the others go on; the
 * record keeps the members left, and goes when none is.
 */
export async function destroyTeam(fleet: Fleet, name: string, force: boolean, context: CommandContext): Promise<MemberOutcome[]> {
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
  return withFleetLock(fleet, context, `team destroy ${name}`, async () => {
    const outcomes: MemberOutcome[] = [];
    for (const member of [...team.members]) {
      let outcome: MemberOutcome;
      try {
        await memberDown(fleet, member, api);
        await refuseWhileWritable(fleet, member.index);
        let removed: RemoveResult | null = null;
        if (readAgentRecords(fleet.state).has(member.index))
          removed = await removeAgent(fleet, { index: member.index, force, deleteBranch: false });
        removeProfileFiles(fleet.workspace.dir, member.agent);
        const backup = removed?.backup ?? null;
        outcome = { agent: member.agent, removed: true, problem: null, backupRef: backup?.ref ?? null, restore: backup?.restore ?? null };
        team.members = team.members.filter((m) => m.index !== member.index);
      } catch (error) {
        outcome = {
          agent: member.agent,
          removed: false,
          problem: oneLine(error instanceof Error ? error.message : String(error)),
          backupRef: null,
          restore: null,
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
  force: boolean,
  context: CommandContext,
): Promise<Array<{ team: string; members: MemberOutcome[] }>> {
  const teams = listTeams(fleet).filter((team) => team.session === session);
  const results: Array<{ team: string; members: MemberOutcome[] }> = [];
  for (const team of teams) results.push({ team: team.name, members: await destroyTeam(fleet, team.name, force, context) });
  return results;
}
