import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Io } from '../cli/io.js';
import { connectEndpoint, type EngineApi } from '../docker/engine-api.js';
import { ensureImagesOn } from '../docker/image-transfer.js';
import { ensureRemoteCopy } from './remote-copy.js';
import type { AgentEngine } from '../fleet/engines.js';
import { contextArgs } from './compose.js';
import { buildStackImages, type BuiltImage } from '../docker/images.js';
import { describeEndpoint, machineEndpoint } from '../docker/endpoint.js';
import { DevkitError } from '../errors.js';
import { ensureWorkspaceImage, workspaceImage, type WorkspaceImage } from '../image/workspace-image.js';
import type { Fleet } from '../fleet/fleet.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { agentOwner } from '../fleet/owner.js';
import { policyFor, writePolicyFiles } from '../policy/policy.js';
import { projectNetwork } from './network.js';
import { writeAgentOverlay, type OverlayAction } from './overlay.js';
import { agentPortRange } from './ports.js';
import type { Profile } from './profile.js';
import { checkSandbox } from './sandbox-check.js';
import { externalVolumes } from './compose-file.js';
import { COMPOSE_FILE, DEV_ALL, ensureStackFiles, writeComposeEnv, writeUserFiles } from './workspace-files.js';
import { profileProject, projectPrefix } from './project-names.js';

/**
 * The shared cache volumes, made where missing and writable by every agent's
 * uid (sticky, like /tmp). A new volume takes the dev image's modes; one made
 * by an older devkit is set once by a throwaway container with no network
 * and no capabilities, and devkit's state remembers it.
 */
async function ensureVolumes(fleet: Fleet, engine: AgentEngine, api: EngineApi, names: readonly string[]): Promise<void> {
  // Creating a volume that exists is a no-op for the engine, so concurrent ups agree.
  await Promise.all(names.map((name) => api.createVolume(name, { 'devkit.cache': 'true' })));
  const marker = path.join(fleet.state.dir, engine.remote ? `caches-writable-${engine.endpoint.context}` : 'caches-writable');
  const done = existsSync(marker) ? readFileSync(marker, 'utf8').split('\n') : [];
  const todo = names.filter((name) => !done.includes(name));
  if (todo.length === 0) return;
  const mounts = todo.flatMap((name, i) => ['-v', `${name}:/c/${i}`]);
  const made = await execa(
    'docker',
    [
      ...contextArgs(engine.remote ? engine.context : null),
      'run',
      '--rm',
      '--network',
      'none',
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      '--user',
      '0:0',
      ...mounts,
      'devkit/dev:local',
      'chmod',
      '1777',
      ...todo.map((_, i) => `/c/${i}`),
    ],
    { reject: false, stdin: 'ignore' },
  );
  if (made.exitCode !== 0) throw new DevkitError(`cannot make the shared cache volumes writable for agents: ${made.stderr.trim()}`);
  writeFileAtomic(marker, [...done, ...todo].join('\n'));
}

/** Refuses egress.networks naming a network the engine lacks, in devkit's words rather than compose's. */
async function checkJoinedNetworks(api: EngineApi, names: readonly string[]): Promise<void> {
  for (const name of names) {
    if (!(await api.hasNetwork(name)))
      throw new DevkitError(
        `egress.networks names ${name}, which the Docker engine does not have: create it, or take it out of devkit.yml`,
      );
  }
}

export interface PreparedStack {
  images: BuiltImage[];
  overlay: { file: string; action: OverlayAction } | null;
  /** The profile's policy files changed: running sidecars must read them again. */
  policyChanged: boolean;
}

/**
 * The stack bind-mounts the dev root's folders, which an engine reached over
 * TCP or ssh does not have (or has by accident, on a shared disk): agents
 * there need copies kept in volumes on that engine, which devkit does not
 * make yet. So a stack goes only to an engine on this machine's socket.
 */
function refuseRemoteEngine(fleet: Fleet, api: EngineApi): void {
  if (api.endpoint.kind === 'unix') return;
  throw new DevkitError(
    `the Docker engine at ${describeEndpoint(api.endpoint)} is not on this machine's socket and cannot see the dev root ` +
      `${fleet.config.root} that agents' stacks mount: devkit runs stacks only on a local engine for now; ` +
      'choose one with docker context use default (or unset DOCKER_HOST / DOCKER_CONTEXT)',
  );
}

/**
 * Everything `up` needs before compose runs: the workspace's stack files and
 * .env, the images, the shared cache volumes, agent K's overlay, and the
 * check that the stack they make is a sandbox. The caller holds the fleet
 * lock, so concurrent ups build and write once.
 */
export async function prepareStack(fleet: Fleet, profile: Profile, io: Io): Promise<PreparedStack> {
  const { engine } = profile;
  const api = await connectEndpoint(engine.endpoint);
  if (!engine.remote) refuseRemoteEngine(fleet, api);
  // Images are built on this machine's engine; a remote one gets copies of them,
  // or pulls them from devkit.yml's registry (image-transfer.ts).
  const builder = engine.remote ? await connectEndpoint(machineEndpoint(fleet.env)) : api;
  const { overlay, policyChanged, devImage } = await writeStackFiles(fleet, profile, api, io);
  const images = await buildStackImages({ baseImage: fleet.config.baseImage, io, api: builder, env: fleet.env });
  await ensureWorkspaceImage(fleet.config, devImage, { api: builder, io, env: fleet.env });
  if (engine.remote && profile.agentIndex !== null) {
    const route = fleet.config.registry === null ? null : { registry: fleet.config.registry, env: fleet.env };
    await ensureImagesOn(api, [...new Set([...images.map((image) => image.tag), devImage.tag])], { source: builder, io, route });
    await ensureRemoteCopy(fleet, profile.agentIndex, api, { image: devImage.tag, io });
  }
  await ensureVolumes(fleet, engine, api, externalVolumes(path.join(fleet.workspace.dir, COMPOSE_FILE)));
  await checkSandbox(fleet, profile, devImage);
  return { images, overlay, policyChanged };
}

/**
 * The files a profile's stack reads, written where missing or stale:
 * compose.yml and overlays/dev-all, .env, the profile's policy files and
 * user files (usersDir), and an agent profile's overlay. The caller holds the fleet lock
 * (subnets and an agent's ports are reserved here).
 */
export async function writeStackFiles(
  fleet: Fleet,
  profile: Profile,
  api: EngineApi,
  io: Io,
): Promise<Pick<PreparedStack, 'overlay' | 'policyChanged'> & { devImage: WorkspaceImage }> {
  const owner = agentOwner();
  ensureStackFiles(fleet.workspace.dir);
  // Read once here (it hashes the image section's files): .env names it, up builds and checks it.
  const devImage = workspaceImage(fleet.config, projectPrefix(fleet.config));
  writeComposeEnv(fleet, await projectNetwork(api, fleet, profileProject(fleet.config, DEV_ALL)), { owner, devImage: devImage.tag });
  const policyChanged = writePolicyFiles(fleet.workspace.dir, profile.name, policyFor(fleet.config, profile.name));
  writeUserFiles(fleet.workspace.dir, profile.name, {
    owner,
    home: profile.agentIndex === null ? '/workspaces/dev' : '/workspace/.devhome',
    ssh: fleet.config.ssh,
  });
  if (profile.agentIndex === null) return { overlay: null, policyChanged, devImage };
  await checkJoinedNetworks(api, fleet.config.egress.networks);
  const network = await projectNetwork(api, fleet, profile.project);
  const ports = await agentPortRange(fleet, profile.agentIndex, api, io);
  const overlay = await writeAgentOverlay(fleet, profile.agentIndex, network, ports, profile.engine.remote);
  return { overlay, policyChanged, devImage };
}
