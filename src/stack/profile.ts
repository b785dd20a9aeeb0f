import { existsSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { Fleet } from '../fleet/fleet.js';
import { parseAgentName } from '../fleet/layout.js';
import { requireAgent } from '../fleet/records.js';
import { checkName } from '../validate.js';
import { resolveEndpoint } from '../docker/endpoint.js';
import { agentEngine, type AgentEngine } from '../fleet/engines.js';
import { agentProject, profileProject } from './project-names.js';
import { COMPOSE_FILE, DEV_ALL, localOverlays, overlayFile } from './workspace-files.js';

/** A profile: which overlay is layered on compose.yml, and the compose project it makes. */
export interface Profile {
  name: string;
  /** K for an agentK profile; null for dev-all, whose container every agent shares. */
  agentIndex: number | null;
  project: string;
  /** compose.yml, devkit's overlay, then the user's own (localOverlays), in the order compose layers them. */
  files: string[];
  /** The engine its stack runs on (fleet/engines.ts). */
  engine: AgentEngine;
}

/**
 * `-p NAME`: dev-all, or agentK for an agent that exists. Bad names and
 * unknown profiles are usage errors, found before anything changes.
 */
export function resolveProfile(fleet: Fleet, raw: string | undefined): Profile {
  if (raw === undefined) throw new UsageError('this command needs a profile: -p dev-all or -p agentK');
  const name = checkName(raw, 'profile');
  const composeFile = path.join(fleet.workspace.dir, COMPOSE_FILE);
  const files = (profile: string): string[] => [
    composeFile,
    overlayFile(fleet.workspace.dir, profile),
    ...localOverlays(fleet.workspace.dir, profile),
  ];
  if (name === DEV_ALL) {
    const context = fleet.config.engines.workspace;
    const engine = { context, endpoint: resolveEndpoint(fleet.env, context), remote: false };
    return { name, agentIndex: null, project: profileProject(fleet.config, DEV_ALL), files: files(name), engine };
  }
  const index = parseAgentName(name);
  if (index === null) throw new UsageError(`unknown profile ${name}: use dev-all or agentK (K an agent index)`);
  requireAgent(fleet.state, index);
  if (!existsSync(composeFile)) throw new UsageError(`${composeFile} is missing: run devkit init in ${fleet.workspace.dir} to write it`);
  return { name, agentIndex: index, project: agentProject(fleet, index), files: files(name), engine: agentEngine(fleet, index) };
}

/** Where compose runs a profile's project: the workspace folder, its files, its engine's context (runCompose's first options). */
export function composeTarget(fleet: Fleet, profile: Profile): { cwd: string; files: string[]; context: string | null } {
  return { cwd: fleet.workspace.dir, files: profile.files, context: profile.engine.context };
}
