import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../agents/devhome.js';

/** One member of a team: an agent with its own worktree and container. */
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

/** A team's record, kept in the shared git dir beside devkit's lock so every workspace of the repo sees it. */
export interface TeamState {
  name: string;
  /** The session that made it: session cleanup destroys every team of a session. */
  session: string;
  createdAt: string;
  members: TeamMember[];
}

export function teamsDir(commonDir: string): string {
  return path.join(commonDir, 'devkit-teams');
}

function teamFile(commonDir: string, name: string): string {
  return path.join(teamsDir(commonDir), `${name}.json`);
}

/** Writes the record by renaming a complete temp file over it: a reader (or a kill -9) never sees half of one. */
export function writeTeam(commonDir: string, team: TeamState): void {
  mkdirSync(teamsDir(commonDir), { recursive: true });
  writeFileAtomic(teamFile(commonDir, team.name), `${JSON.stringify(team, null, 2)}\n`);
}

export function readTeam(commonDir: string, name: string): TeamState | null {
  const file = teamFile(commonDir, name);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as TeamState) : null;
}

export function listTeams(commonDir: string): TeamState[] {
  const dir = teamsDir(commonDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .map((file) => readTeam(commonDir, file.slice(0, -'.json'.length)))
    .filter((team): team is TeamState => team !== null);
}

export function deleteTeam(commonDir: string, name: string): void {
  rmSync(teamFile(commonDir, name), { force: true });
}
