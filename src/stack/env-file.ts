import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The .env file beside compose.yml: devkit writes it for the checked-in dev-all
 * overlay (and for people running compose by hand), and exec-cd's fast path
 * reads it back to find a stack without parsing devkit.yml. This module owns
 * its format (KEY='value', single quotes, which compose takes literally). It
 * stays light: exec-cd loads it.
 */
export interface ComposeEnv {
  DEVKIT_PROJECT: string;
  DEVKIT_ROOT: string;
  DEVKIT_REPO: string;
  DEVKIT_GIT_DIR: string;
  DEVKIT_WORKSPACE: string;
  DEVKIT_UID: string;
  DEVKIT_GID: string;
  DEVKIT_SUBNET: string;
  DEVKIT_IP_RANGE: string;
  DEVKIT_DNS_IP: string;
  DEVKIT_POLICY_DIR: string;
  DEVKIT_USERS_DIR: string;
  DEVKIT_SANDBOX: string;
  /** The dev image (devkit's own, or the workspace's own when devkit.yml has an image section). */
  DEVKIT_DEV_IMAGE: string;
  /** devkit.yml's maxAgents, so exec-cd checks K without parsing devkit.yml. */
  DEVKIT_MAX_AGENTS: string;
}

export const ENV_FILE = '.env';

/** The file's text, or null when a value cannot be written literally (a quote or a line break in it). */
export function formatComposeEnv(values: ComposeEnv): { text: string } | { bad: string } {
  const lines = ['# Written by devkit from devkit.yml, for docker compose run by hand in this folder.'];
  for (const [key, value] of Object.entries(values) as Array<[string, string]>) {
    if (/['\n\r]/.test(value))
      return { bad: `${key} ${JSON.stringify(value)} cannot be written to ${ENV_FILE}: it holds a quote or a line break` };
    lines.push(`${key}='${value}'`);
  }
  return { text: `${lines.join('\n')}\n` };
}

/** The values devkit wrote to `<workspace>/.env`, or null when it has not written one (or it was changed by hand). */
export function readComposeEnv(workspaceDir: string): Partial<ComposeEnv> | null {
  let text: string;
  try {
    text = readFileSync(path.join(workspaceDir, ENV_FILE), 'utf8');
  } catch {
    return null;
  }
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^(DEVKIT_[A-Z_]+)='([^'\n]*)'$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) values[match[1]] = match[2];
  }
  return values;
}
