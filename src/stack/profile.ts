import { existsSync } from 'node:fs';
import path from 'node:path';
import type { DevRoot } from '../agents/devroot.js';
import { agentIndexesOf } from '../agents/layout.js';
import { listWorktrees } from '../git/worktrees.js';
import { UsageError } from '../errors.js';
import { checkName } from '../validate.js';
import { agentProject } from './overlay.js';
import { COMPOSE_FILE, DEV_ALL, overlayFile, profileProject } from './workspace-files.js';

/** A profile: which overlay is layered on compose.yml, and the compose project it makes. */
export interface Profile {
  name: string;
  /** K for an agentK profile; null for dev-all, whose container every agent shares. */
  agentIndex: number | null;
  project: string;
  files: [string, string];
}

/**
 * `-p NAME`: dev-all, or agentK for an agent that exists. Bad names and
 * unknown profiles are usage errors, found before anything changes.
 */
export async function resolveProfile(devRoot: DevRoot, raw: string | undefined): Promise<Profile> {
  if (raw === undefined) throw new UsageError('this command needs a profile: -p dev-all or -p agentK');
  const name = checkName(raw, 'profile');
  const files = (profile: string): [string, string] => [path.join(devRoot.workspace.dir, COMPOSE_FILE), overlayFile(devRoot.workspace.dir, profile)];
  if (name === DEV_ALL) return { name, agentIndex: null, project: profileProject(devRoot.config, DEV_ALL), files: files(name) };
  const match = /^agent([1-9][0-9]*)$/.exec(name);
  if (match?.[1] === undefined) {
    throw new UsageError(`unknown profile ${name}: use dev-all or agentK (K an agent index)`);
  }
  const index = Number(match[1]);
  const known = agentIndexesOf(devRoot.config, await listWorktrees(devRoot.repo.top));
  if (!known.includes(index)) {
    throw new UsageError(`unknown profile ${name}: there is no agent ${index} (agents: ${known.join(', ')}); make it with devkit worktrees init ${index}`);
  }
  if (!existsSync(files(DEV_ALL)[0])) {
    throw new UsageError(`${files(DEV_ALL)[0]} is missing: run devkit init in ${devRoot.workspace.dir} to write it`);
  }
  return { name, agentIndex: index, project: agentProject(devRoot, index), files: files(name) };
}
