import { existsSync, readdirSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { CommandContext, DevRoot } from '../agents/devroot.js';
import { withDevRootLock } from '../agents/devroot.js';
import { agentIndexesOf, agentIndexOfFolder, agentPaths } from '../agents/layout.js';
import { provisionIndexes, resolveBase } from '../agents/provision.js';
import { removeAgent, type RemoveResult } from '../agents/remove.js';
import type { EngineApi } from '../docker/engine-api.js';
import { engine } from '../docker/images.js';
import { DevkitError, UsageError, oneLine } from '../errors.js';
import { listWorktrees } from '../git/worktrees.js';
import { policyDir } from '../policy/policy.js';
import { runCompose, waitForComposeUsing } from '../stack/compose.js';
import { removeProjectByLabel } from '../stack/containers.js';
import { agentProject } from '../stack/overlay.js';
import { upProfile } from '../stack/up.js';
import { overlayFile } from '../stack/workspace-files.js';
import { checkName } from '../validate.js';
import { deleteTeam, listTeams, readTeam, writeTeam, type TeamMember, type TeamState } from './state.js';

/** The session a team belongs to: --session, else DEVKIT_SESSION, else a new id. */
export function sessionId(requested: string | undefined, env: NodeJS.ProcessEnv): string {
  const id = requested ?? env.DEVKIT_SESSION ?? `devkit-${randomUUID()}`;
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(id)) throw new UsageError(`session id ${JSON.stringify(id)} is not valid: letters, digits, '.', '_', ':' and '-'`);
  return id;
}

/** Agent indexes nobody holds: no worktree, no team member, no agent folder (a kept HOME is someone's keys). */
async function freeIndexes(devRoot: DevRoot, count: number): Promise<number[]> {
  const taken = new Set<number>([
    ...agentIndexesOf(devRoot.config, await listWorktrees(devRoot.repo.top)),
    ...listTeams(devRoot.repo.commonDir).flatMap((team) => team.members.map((member) => member.index)),
    ...(existsSync(devRoot.config.root) ? readdirSync(devRoot.config.root) : []).map(agentIndexOfFolder).filter((i): i is number => i !== null),
  ]);
  const free: number[] = [];
  for (let index = 2; index <= devRoot.config.maxAgents && free.length < count; index++) if (!taken.has(index)) free.push(index);
  if (free.length < count) throw new DevkitError(`only ${free.length} free agent indexes below maxAgents (${devRoot.config.maxAgents}): raise it in devkit.yml or destroy a team`);
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
export async function createTeam(devRoot: DevRoot, request: CreateTeamRequest, context: CommandContext): Promise<TeamState> {
  const name = checkName(request.name, 'team name');
  const base = await resolveBase(devRoot, request.base);
  const team = await withDevRootLock(devRoot, context, `team create ${name}`, async () => {
    if (readTeam(devRoot.repo.commonDir, name) !== null) throw new UsageError(`team ${name} exists already: destroy it first, or pick another name`);
    const indexes = await freeIndexes(devRoot, request.count);
    const planned: TeamState = {
      name,
      session: request.session,
      createdAt: new Date().toISOString(),
      members: indexes.map((index) => ({
        index,
        agent: `agent${index}`,
        worktree: agentPaths(devRoot.config, index).worktree,
        project: agentProject(devRoot, index),
        containers: [],
        state: 'planned',
      })),
    };
    writeTeam(devRoot.repo.commonDir, planned);
    await provisionIndexes(devRoot, indexes, base);
    return planned;
  });
  for (const member of team.members) {
    const { containers } = await upProfile(devRoot, member.agent, context, true);
    member.containers = containers.map((container) => container.name);
    member.state = 'created';
    writeTeam(devRoot.repo.commonDir, team);
  }
  return team;
}

export interface MemberOutcome {
  agent: string;
  removed: boolean;
  /** Why it was left: its work, or a failure; null when removed. */
  problem: string | null;
  backupRef: string | null;
}

/** Takes a member's stack down: with its overlay when there is one, else by its compose project's labels. */
async function memberDown(devRoot: DevRoot, member: TeamMember, api: EngineApi | null): Promise<void> {
  const overlay = overlayFile(devRoot.workspace.dir, member.agent);
  await waitForComposeUsing(overlay);
  if (existsSync(overlay)) {
    await runCompose({ cwd: devRoot.workspace.dir, files: [`${devRoot.workspace.dir}/compose.yml`, overlay], args: ['down', '--timeout', '5'], quiet: true });
  }
  // Whatever is still there (a create killed before its overlay was written): by label.
  if (api !== null) await removeProjectByLabel(api, devRoot.config.root, member.project);
}

/**
 * `team destroy`: every member's containers, then its worktree, under the
 * never-lose-work rules (refused when it holds work, unless force, which backs
 * it up first). A member that fails is reported and the others go on; the
 * record keeps the members left, and goes when none is.
 */
export async function destroyTeam(devRoot: DevRoot, name: string, force: boolean, context: CommandContext): Promise<MemberOutcome[]> {
  const team = readTeam(devRoot.repo.commonDir, name);
  if (team === null) {
    const known = listTeams(devRoot.repo.commonDir).map((t) => t.name);
    throw new UsageError(`unknown team ${name} (teams: ${known.length === 0 ? 'none' : known.join(', ')})`);
  }
  const api = await engine().catch(() => null);
  return withDevRootLock(devRoot, context, `team destroy ${name}`, async () => {
    const outcomes: MemberOutcome[] = [];
    for (const member of [...team.members]) {
      let outcome: MemberOutcome;
      try {
        await memberDown(devRoot, member, api);
        const registered = agentIndexesOf(devRoot.config, await listWorktrees(devRoot.repo.top)).includes(member.index);
        let removed: RemoveResult | null = null;
        if (registered || existsSync(member.worktree)) removed = await removeAgent(devRoot, { index: member.index, force, deleteBranch: false });
        rmSync(overlayFile(devRoot.workspace.dir, member.agent), { force: true });
        rmSync(policyDir(devRoot.workspace.dir, member.agent), { recursive: true, force: true });
        outcome = { agent: member.agent, removed: true, problem: null, backupRef: removed?.backup?.ref ?? null };
        team.members = team.members.filter((m) => m.index !== member.index);
      } catch (error) {
        outcome = { agent: member.agent, removed: false, problem: oneLine(error instanceof Error ? error.message : String(error)), backupRef: null };
      }
      outcomes.push(outcome);
      if (team.members.length === 0) deleteTeam(devRoot.repo.commonDir, name);
      else writeTeam(devRoot.repo.commonDir, team);
    }
    return outcomes;
  });
}

/** `session cleanup`: destroys every team the session made. */
export async function cleanupSession(devRoot: DevRoot, session: string, force: boolean, context: CommandContext): Promise<Array<{ team: string; members: MemberOutcome[] }>> {
  const teams = listTeams(devRoot.repo.commonDir).filter((team) => team.session === session);
  const results: Array<{ team: string; members: MemberOutcome[] }> = [];
  for (const team of teams) results.push({ team: team.name, members: await destroyTeam(devRoot, team.name, force, context) });
  return results;
}
