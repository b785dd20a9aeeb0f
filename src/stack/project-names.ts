import { createHash } from 'node:crypto';
import type { DevkitConfig } from '../config/config.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentName } from '../fleet/layout.js';

/*
 * Compose project names, apart from workspace-files.ts: status and ports name
 * projects on every run, and workspace-files.ts loads the template engine
 * (a quarter of a megabyte of JavaScript to parse) that only writing files needs.
 */

/** Compose project names of this dev root start with this: the repo, and a hash of the root so two roots never share one. */
export function projectPrefix(config: Pick<DevkitConfig, 'root' | 'repo'>): string {
  const slug =
    config.repo
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/^[^a-z0-9]+/, '') || 'repo';
  return `${slug}-${createHash('sha256').update(config.root).digest('hex').slice(0, 6)}`;
}

/** The compose project of one profile of this dev root (dev-all, agentK). */
export function profileProject(config: Pick<DevkitConfig, 'root' | 'repo'>, profile: string): string {
  return `${projectPrefix(config)}-${profile}`;
}

/** Agent K's compose project (profile agentK). */
export function agentProject(fleet: Pick<Fleet, 'config'>, index: number): string {
  return profileProject(fleet.config, agentName(index));
}

/**
 * The volumes an agent on a remote engine works in: its copy (a clone, at
 * /workspace) and its HOME (at /workspace/.devhome), named after the dev
 * root like its compose project so two roots never share one.
 */
export interface AgentVolumes {
  copy: string;
  home: string;
}

export function agentVolumes(config: Pick<DevkitConfig, 'root' | 'repo'>, index: number): AgentVolumes {
  const base = `${projectPrefix(config)}-${agentName(index)}`;
  return { copy: `${base}-copy`, home: `${base}-home` };
}

/** The labels devkit puts on them: whose they are, for status and gc. */
export function agentVolumeLabels(
  config: Pick<DevkitConfig, 'root' | 'repo'>,
  index: number,
  role: keyof AgentVolumes,
): Record<string, string> {
  return { 'devkit.root': config.root, 'devkit.agent': agentName(index), 'devkit.volume': role };
}
