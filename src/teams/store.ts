import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DevkitError } from '../errors.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentName, agentPaths } from '../fleet/layout.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { readTextIn, withSafeDir } from '../fs/safe.js';
import { agentProject } from '../stack/project-names.js';
import { NAME_PATTERN } from '../validate.js';

/** One member of a team: an agent with its own copy and container. */
export interface TeamMember {
  index: number;
  agent: string;
  worktree: string;
  /** The member's compose project; its containers are `<project>-<service>-1`. */
  project: string;
  containers: string[];
  /** planned: recorded before anything was made, so a killed create can still be cleaned up. */
  state: 'planned' | 'created';
}

/** A team's record, kept in devkit's state for the dev root (out of every container's reach). */
export interface TeamState {
  name: string;
  /** The session that made it: session cleanup destroys every team of a session. */
  session: string;
  createdAt: string;
  members: TeamMember[];
}

export const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

function teamFile(fleet: Fleet, name: string): string {
  return path.join(fleet.state.teamsDir, `${name}.json`);
}

/**
 * A record as read back, checked against devkit's own layout for this dev
 * root: every member's agent, index, copy path, compose project and container
 * names must be what devkit would make. Anything else is refused whole, with
 * one line: devkit removes folders and containers on a record's word.
 */
function checkTeam(fleet: Fleet, name: string, raw: unknown): TeamState {
  const refuse = (what: string): never => {
    throw new DevkitError(
      `team record ${teamFile(fleet, name)} does not match devkit's layout for ${fleet.config.root} (${what}): ` +
        'devkit will not act on it; remove it by hand',
    );
  };
  if (raw === null || typeof raw !== 'object') return refuse('not a record');
  const team = raw as Partial<TeamState>;
  if (team.name !== name || !NAME_PATTERN.test(name)) refuse(`its name is ${JSON.stringify(team.name)}`);
  if (typeof team.session !== 'string' || !SESSION_ID.test(team.session)) refuse('its session id is malformed');
  if (typeof team.createdAt !== 'string' || !Array.isArray(team.members)) refuse('it has no members list');
  const members = (team.members ?? []).map((member: Partial<TeamMember>, i) => {
    const index = member.index;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 2 || index > fleet.config.maxAgents)
      return refuse(`member ${i} has index ${JSON.stringify(index)}`);
    const project = agentProject(fleet, index);
    if (member.agent !== agentName(index)) refuse(`member ${index} is named ${JSON.stringify(member.agent)}`);
    if (member.worktree !== agentPaths(fleet.config, index).worktree)
      refuse(`member ${index}'s copy is ${JSON.stringify(member.worktree)}`);
    if (member.project !== project) refuse(`member ${index}'s compose project is ${JSON.stringify(member.project)}`);
    if (!Array.isArray(member.containers) || member.containers.some((c) => typeof c !== 'string' || !c.startsWith(`${project}-`))) {
      refuse(`member ${index} names containers outside its project`);
    }
    if (member.state !== 'planned' && member.state !== 'created') refuse(`member ${index}'s state is ${JSON.stringify(member.state)}`);
    return {
      index,
      agent: agentName(index),
      worktree: agentPaths(fleet.config, index).worktree,
      project,
      containers: member.containers ?? [],
      state: member.state ?? 'planned',
    };
  });
  return { name, session: team.session ?? '', createdAt: team.createdAt ?? '', members };
}

/** Writes the record by renaming a complete temp file over it: a reader (or a kill -9) never sees half of one. */
export function writeTeam(fleet: Fleet, team: TeamState): void {
  writeFileAtomic(teamFile(fleet, team.name), `${JSON.stringify(team, null, 2)}\n`, { mode: 0o600 });
}

export function readTeam(fleet: Fleet, name: string): TeamState | null {
  const text = withSafeDir(fleet.state.teamsDir, '', (dir) => readTextIn(dir, `${name}.json`, 1024 * 1024));
  if (text === null) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = null;
  }
  return checkTeam(fleet, name, raw);
}

export function listTeams(fleet: Fleet): TeamState[] {
  let files: string[];
  try {
    files = readdirSync(fleet.state.teamsDir);
  } catch {
    return [];
  }
  return files
    .filter((file) => file.endsWith('.json') && NAME_PATTERN.test(file.slice(0, -5)))
    .map((file) => readTeam(fleet, file.slice(0, -'.json'.length)))
    .filter((team): team is TeamState => team !== null);
}

export function deleteTeam(fleet: Fleet, name: string): void {
  rmSync(teamFile(fleet, name), { force: true });
}
