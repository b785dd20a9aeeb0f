import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DevkitError } from '../errors.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentName, agentPaths } from '../fleet/layout.js';
import { agentOwner } from '../fleet/owner.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { policyDir } from '../policy/paths.js';
import { composeLiteral, renderComposeYaml } from '../templates.js';
import { composeCheck } from './compose.js';
import { parseOverlay } from './compose-file.js';
import type { ProjectNetwork } from './network.js';
import { formatRange, portsEnv, type PortRange } from './ports.js';
import { COMPOSE_FILE, SANDBOX_VERSION, USER_FILES, localOverlays, overlayFile, usersDir } from './workspace-files.js';
import { agentProject } from './project-names.js';
import { agentVolumes } from './project-names.js';

export const AGENT_OVERLAY_TEMPLATE = 'overlays/agent.compose.override.yml.hbs';

/** Files of a folder devkit wrote, as compose configs (name, target, content) and one hash of them all. */
function filesAsConfigs(dir: string, files: ReadonlyArray<{ name: string; target: string }>, prefix: string) {
  const hash = createHash('sha256');
  const configs = files.map(({ name, target }) => {
    const text = readFileSync(path.join(dir, name), 'utf8');
    // compose takes an empty content for a file named "" (a bind mount of the project folder): a comment line says nothing instead.
    const content = text === '' ? '# empty\n' : text;
    hash.update(`${target}\0${content}\0`);
    return { key: `${prefix}-${name}`, target, content };
  });
  return { configs, hash: hash.digest('hex').slice(0, 16) };
}

/**
 * On an engine that cannot see the host (fleet/engines.ts), the files the local stack
 * bind-mounts go in as compose configs, copied into the containers when they
 * are made, and the copy and HOME are volumes there.
 */
function remoteValues(fleet: Fleet, index: number, users: string) {
  const name = agentName(index);
  const policy = policyDir(fleet.workspace.dir, name);
  const policyFiles = filesAsConfigs(
    policy,
    readdirSync(policy)
      .filter((file) => !file.startsWith('.'))
      .sort()
      .map((file) => ({ name: file, target: `/etc/devkit/policy/${file}` })),
    'policy',
  );
  const userFiles = filesAsConfigs(
    users,
    Object.entries(USER_FILES).map(([file, target]) => ({ name: file, target })),
    'user',
  );
  const volumes = agentVolumes(fleet.config, index);
  return {
    policyFiles: policyFiles.configs,
    policyHash: policyFiles.hash,
    userFiles: userFiles.configs,
    userFilesHash: userFiles.hash,
    copyVolume: volumes.copy,
    homeVolume: volumes.home,
  };
}

/** agent K's overlay text, rendered from the template and checked with the yaml parser. */
export function renderAgentOverlay(fleet: Fleet, index: number, network: ProjectNetwork, ports: PortRange, remote: boolean): string {
  const agent = agentPaths(fleet.config, index);
  const { uid, gid } = agentOwner();
  const users = usersDir(fleet.workspace.dir, agent.name);
  const text = renderComposeYaml(AGENT_OVERLAY_TEMPLATE, {
    profile: agent.name,
    index,
    project: agentProject(fleet, index),
    repo: fleet.config.repo,
    root: fleet.config.root,
    workspace: fleet.workspace.dir,
    sandbox: SANDBOX_VERSION,
    user: `${uid}:${gid}`,
    worktree: agent.worktree,
    devhome: agent.devhome,
    primary: index === 1,
    gitDir: fleet.shared.gitDir,
    userFiles: Object.entries(USER_FILES).map(([name, target]) => ({ source: path.join(users, name), target })),
    remote,
    ...(remote ? remoteValues(fleet, index, users) : {}),
    subnet: network.subnet,
    ipRange: network.ipRange,
    dnsIp: network.dnsIp,
    policyDir: policyDir(fleet.workspace.dir, agent.name),
    devkitPort: portsEnv(ports).DEVKIT_PORT,
    devkitPorts: portsEnv(ports).DEVKIT_PORTS,
    // The same numbers inside and out, on the host's loopback only.
    published: `127.0.0.1:${formatRange(ports)}:${formatRange(ports)}`,
    joinedNetworks: fleet.config.egress.networks.map((name, i) => ({ key: `joined${i}`, name })),
  });
  const overlay = parseOverlay(text, `overlay for ${agent.name}`);
  const mounts = overlay.services.dev?.volumes ?? [];
  const copySource = remote ? 'copy' : composeLiteral(agent.worktree);
  if (overlay.name !== agentProject(fleet, index) || !mounts.some((m) => m.source === copySource && m.target === '/workspace')) {
    throw new DevkitError(
      `rendered overlay for ${agent.name} does not mount its copy under its own project name: check ${AGENT_OVERLAY_TEMPLATE}`,
    );
  }
  return text;
}

export type OverlayAction = 'created' | 'updated' | 'unchanged';

/**
 * Writes overlays/agentK/compose.override.yml after `docker compose config`
 * accepts it layered on compose.yml; a rejected overlay is never written.
 */
export async function writeAgentOverlay(
  fleet: Fleet,
  index: number,
  network: ProjectNetwork,
  ports: PortRange,
  remote: boolean,
): Promise<{ file: string; action: OverlayAction }> {
  const file = overlayFile(fleet.workspace.dir, agentName(index));
  const text = renderAgentOverlay(fleet, index, network, ports, remote);
  const existed = existsSync(file);
  if (existed && readFileSync(file, 'utf8') === text) return { file, action: 'unchanged' };
  mkdirSync(path.dirname(file), { recursive: true });
  const candidate = path.join(path.dirname(file), `.candidate-${process.pid}.yml`);
  writeFileAtomic(candidate, text);
  try {
    await composeCheck(fleet.workspace.dir, [
      path.join(fleet.workspace.dir, COMPOSE_FILE),
      candidate,
      ...localOverlays(fleet.workspace.dir, agentName(index)),
    ]);
    writeFileAtomic(file, text);
  } finally {
    rmSync(candidate, { force: true });
  }
  return { file, action: existed ? 'updated' : 'created' };
}
