import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { DevRoot } from '../agents/devroot.js';
import type { Io } from '../io.js';
import type { EngineApi } from '../docker/engine-api.js';
import { buildStackImages, engine, type BuiltImage } from '../docker/images.js';
import { writeAgentOverlay, type OverlayAction } from './overlay.js';
import type { Profile } from './profile.js';
import { COMPOSE_FILE, ensureStackFiles, writeComposeEnv } from './workspace-files.js';

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
  ensureStackFiles(devRoot.workspace.dir);
  writeComposeEnv(devRoot);
  const images = await buildStackImages({ baseImage: devRoot.config.baseImage, io, api });
  await ensureVolumes(api, externalVolumes(devRoot.workspace.dir));
  const overlay = profile.agentIndex === null ? null : await writeAgentOverlay(devRoot, profile.agentIndex);
  return { images, overlay };
}
