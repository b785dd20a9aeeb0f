import type { DevkitConfig } from '../config/config.js';
import { parseIndex } from '../validate.js';

/** `--agent K` as the profile name agentK, or null for the global list. */
export function policyAgent(config: Pick<DevkitConfig, 'maxAgents'>, raw: string | undefined): string | null {
  return raw === undefined ? null : `agent${parseIndex(raw, { what: '--agent K', min: 1, max: config.maxAgents })}`;
}
