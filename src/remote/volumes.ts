import type { DevkitConfig } from '../config/config.js';
import { agentName } from '../fleet/layout.js';
import { projectPrefix } from '../stack/project-names.js';

/**
 * The volumes an agent on a remote engine works in: its copy (a clone, at
 * /workspace) and its HOME (at /workspace/.devhome), named after the dev
 * root like its compose project so two roots never share one.
 */
export interface AgentVolumes {
  copy: string;
  home: string;
}

type Layout = Pick<DevkitConfig, 'root' | 'repo'>;

export function agentVolumes(config: Layout, index: number): AgentVolumes {
  const base = `${projectPrefix(config)}-${agentName(index)}`;
  return { copy: `${base}-copy`, home: `${base}-home` };
}

/** The labels devkit puts on them: whose they are, for status and gc. */
export function agentVolumeLabels(config: Layout, index: number, role: keyof AgentVolumes): Record<string, string> {
  return { 'devkit.root': config.root, 'devkit.agent': agentName(index), 'devkit.volume': role };
}
