import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DevRoot } from '../agents/devroot.js';
import { agentPaths } from '../agents/layout.js';
import { DevkitError } from '../errors.js';
import { composeLiteral, renderComposeYaml } from '../templates.js';
import { policyDir } from '../policy/policy.js';
import { composeCheck } from './compose.js';
import type { ProjectNetwork } from './network.js';
import { parseOverlay } from './compose-file.js';
import { COMPOSE_FILE, hostUser, overlayFile, profileProject, sharedGitDir } from './workspace-files.js';

export const AGENT_OVERLAY_TEMPLATE = 'overlays/agent.compose.override.yml.hbs';

export function agentProject(devRoot: DevRoot, index: number): string {
  return profileProject(devRoot.config, `agent${index}`);
}

/** agent K's overlay text, rendered from the template and checked with the yaml parser. */
export function renderAgentOverlay(devRoot: DevRoot, index: number, network: ProjectNetwork): string {
  const agent = agentPaths(devRoot.config, index);
  const gitDir = sharedGitDir(devRoot);
  const { uid, gid } = hostUser();
  const primary = index === 1;
  const text = renderComposeYaml(AGENT_OVERLAY_TEMPLATE, {
    profile: agent.name,
    index,
    project: agentProject(devRoot, index),
    repo: devRoot.config.repo,
    root: devRoot.config.root,
    workspace: devRoot.workspace.dir,
    user: `${uid}:${gid}`,
    worktree: agent.worktree,
    devhome: agent.devhome,
    // Agent 1's copy holds the git dir itself; the others' .git files point at it by host path.
    worktreeGitFile: !primary,
    gitDir,
    hooksDir: path.join(gitDir, 'hooks'),
    configFile: path.join(gitDir, 'config'),
    hooksTarget: primary ? '/workspace/.git/hooks' : path.join(gitDir, 'hooks'),
    configTarget: primary ? '/workspace/.git/config' : path.join(gitDir, 'config'),
    subnet: network.subnet,
    ipRange: network.ipRange,
    dnsIp: network.dnsIp,
    policyDir: policyDir(devRoot.workspace.dir, agent.name),
  });
  const overlay = parseOverlay(text, `overlay for ${agent.name}`);
  const mounts = overlay.services.dev?.volumes ?? [];
  if (overlay.name !== agentProject(devRoot, index) || !mounts.some((m) => m.source === composeLiteral(agent.worktree) && m.target === '/workspace')) {
    throw new DevkitError(`rendered overlay for ${agent.name} does not mount its worktree under its own project name: check ${AGENT_OVERLAY_TEMPLATE}`);
  }
  return text;
}

export type OverlayAction = 'created' | 'updated' | 'unchanged';

/**
 * Writes overlays/agentK/compose.override.yml after `docker compose config`
 * accepts it layered on compose.yml; a rejected overlay is never written.
 */
export async function writeAgentOverlay(devRoot: DevRoot, index: number, network: ProjectNetwork): Promise<{ file: string; action: OverlayAction }> {
  const file = overlayFile(devRoot.workspace.dir, agentPaths(devRoot.config, index).name);
  const text = renderAgentOverlay(devRoot, index, network);
  const existed = existsSync(file);
  if (existed && readFileSync(file, 'utf8') === text) return { file, action: 'unchanged' };
  mkdirSync(path.dirname(file), { recursive: true });
  const candidate = `${file}.${process.pid}.tmp`;
  writeFileSync(candidate, text);
  try {
    await composeCheck(devRoot.workspace.dir, [path.join(devRoot.workspace.dir, COMPOSE_FILE), candidate]);
    renameSync(candidate, file);
  } finally {
    rmSync(candidate, { force: true });
  }
  return { file, action: existed ? 'updated' : 'created' };
}
