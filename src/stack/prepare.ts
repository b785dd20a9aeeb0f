import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { DevRoot } from '../agents/devroot.js';
import type { Io } from '../io.js';
import type { EngineApi } from '../docker/engine-api.js';
import { buildStackImages, engine, type BuiltImage } from '../docker/images.js';
import { writeAgentOverlay, type OverlayAction } from './overlay.js';
import type { Profile } from './profile.js';
import { policyFor, writePolicyFiles } from '../policy/policy.js';
import { projectNetwork } from './network.js';
import { COMPOSE_FILE, DEV_ALL, ensureStackFiles, profileProject, writeComposeEnv } from './workspace-files.js';

/** Names of the external volumes compose.yml declares (the shared caches): devkit creates them, compose never deletes them. */
export function externalVolumes(workspaceDir: string): string[] {
  const doc = parse(readFileSync(path.join(workspaceDir, COMPOSE_FILE), 'utf8')) as { volumes?: Record<string, { name?: string; external?: boolean } | null> };
  return Object.entries(doc.volumes ?? {})
    .filter(([, spec]) => spec?.external === true)
    .map(([key, spec]) => spec?.name ?? key);
}

async function ensureVolumes(api: EngineApi, names: readonly string[]): Promise<void> {
  // Creating a volume that exists is a no-op for the engine, so concurrent ups agree.
  await Promise.all(names.map((name) => api.createVolume(name, { 'devkit.cache': 'true' })));
}

export interface PreparedStack {
  images: BuiltImage[];
  overlay: { file: string; action: OverlayAction } | null;
}

/**
 * Everything `up` needs before compose runs: the workspace's stack files and
 * .env, the images, the shared cache volumes, and agent K's overlay. The
 * caller holds the repo lock, so concurrent ups build and write once.
 */
export async function prepareStack(devRoot: DevRoot, profile: Profile, io: Io): Promise<PreparedStack> {
  const api = await engine();
  const { overlay } = await writeStackFiles(devRoot, profile, api);
  const images = await buildStackImages({ baseImage: devRoot.config.baseImage, io, api });
  await ensureVolumes(api, externalVolumes(devRoot.workspace.dir));
  return { images, overlay };
}

/**
 * The files a profile's stack reads, written where missing or stale:
 * compose.yml and overlays/dev-all, .env, the profile's policy files, and an
 * agent profile's overlay. The caller holds the repo lock (subnets are
 * reserved here).
 */
export async function writeStackFiles(devRoot: DevRoot, profile: Profile, api: EngineApi): Promise<{ overlay: PreparedStack['overlay'] }> {
  ensureStackFiles(devRoot.workspace.dir);
  writeComposeEnv(devRoot, await projectNetwork(api, devRoot.repo.commonDir, profileProject(devRoot.config, DEV_ALL)));
  writePolicyFiles(devRoot.workspace.dir, profile.name, policyFor(devRoot.config, profile.name));
  if (profile.agentIndex === null) return { overlay: null };
  const network = await projectNetwork(api, devRoot.repo.commonDir, profile.project);
  return { overlay: await writeAgentOverlay(devRoot, profile.agentIndex, network) };
}
