import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../agents/devhome.js';
import type { DevRoot } from '../agents/devroot.js';
import { primaryClone } from '../agents/layout.js';
import type { DevkitConfig } from '../config/config.js';
import { DevkitError } from '../errors.js';
import { policyDir } from '../policy/policy.js';
import { templatePath } from '../templates.js';
import type { ProjectNetwork } from './network.js';

export const COMPOSE_FILE = 'compose.yml';
export const DEV_ALL = 'dev-all';

export function overlayFile(workspaceDir: string, profile: string): string {
  return path.join(workspaceDir, 'overlays', profile, 'compose.override.yml');
}

/** Compose project names of this dev root start with this: the repo, and a hash of the root so two roots never share one. */
export function projectPrefix(config: Pick<DevkitConfig, 'root' | 'repo'>): string {
  const slug = config.repo.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^[^a-z0-9]+/, '') || 'repo';
  return `${slug}-${createHash('sha256').update(config.root).digest('hex').slice(0, 6)}`;
}

/** The compose project of one profile of this dev root (dev-all, agentK). */
export function profileProject(config: Pick<DevkitConfig, 'root' | 'repo'>, profile: string): string {
  return `${projectPrefix(config)}-${profile}`;
}

/** uid:gid of the user running devkit: containers run as them, so files they write stay theirs. */
export function hostUser(): { uid: number; gid: number } {
  return { uid: process.getuid?.() ?? 1000, gid: process.getgid?.() ?? 1000 };
}

/**
 * Writes compose.yml and overlays/dev-all from the packaged templates where
 * they are missing; files already there are the user's and are kept.
 * Returns the files written.
 */
export function ensureStackFiles(workspaceDir: string): string[] {
  const wanted: Array<[string, string]> = [
    [templatePath('compose.yml'), path.join(workspaceDir, COMPOSE_FILE)],
    [templatePath('overlays/dev-all/compose.override.yml'), overlayFile(workspaceDir, DEV_ALL)],
  ];
  const written: string[] = [];
  for (const [from, to] of wanted) {
    if (existsSync(to)) continue;
    mkdirSync(path.dirname(to), { recursive: true });
    copyFileSync(from, to);
    written.push(to);
  }
  return written;
}

/** The shared git dir, which the overlays mount at its own path; devkit needs the primary's own .git folder. */
export function sharedGitDir(devRoot: DevRoot): string {
  const expected = path.join(primaryClone(devRoot.config), '.git');
  if (devRoot.repo.commonDir !== expected) {
    throw new DevkitError(`${primaryClone(devRoot.config)} keeps its git dir at ${devRoot.repo.commonDir}; devkit's containers need it at ${expected}`);
  }
  // Mounted read-only over the writable .git; both must exist to be mounted.
  mkdirSync(path.join(expected, 'hooks'), { recursive: true });
  return expected;
}

/** A .env value: single-quoted, which compose takes literally (no $ interpolation). */
function envValue(key: string, value: string): string {
  if (/['\n\r]/.test(value)) throw new DevkitError(`${key} ${JSON.stringify(value)} cannot be written to .env: it holds a quote or a line break`);
  return `'${value}'`;
}

/**
 * Writes .env beside compose.yml: the values the checked-in dev-all overlay
 * reads, so `docker compose -f compose.yml -f overlays/dev-all/...` works by hand.
 */
export function writeComposeEnv(devRoot: DevRoot, devAllNetwork: ProjectNetwork): boolean {
  const { uid, gid } = hostUser();
  const values: Record<string, string> = {
    DEVKIT_PROJECT: projectPrefix(devRoot.config),
    DEVKIT_ROOT: devRoot.config.root,
    DEVKIT_REPO: devRoot.config.repo,
    DEVKIT_GIT_DIR: sharedGitDir(devRoot),
    DEVKIT_WORKSPACE: devRoot.workspace.dir,
    DEVKIT_UID: String(uid),
    DEVKIT_GID: String(gid),
    DEVKIT_SUBNET: devAllNetwork.subnet,
    DEVKIT_IP_RANGE: devAllNetwork.ipRange,
    DEVKIT_DNS_IP: devAllNetwork.dnsIp,
    DEVKIT_POLICY_DIR: policyDir(devRoot.workspace.dir, DEV_ALL),
  };
  const text =
    '# Written by devkit from devkit.yml, for docker compose run by hand in this folder.\n' +
    Object.entries(values).map(([key, value]) => `${key}=${envValue(key, value)}\n`).join('');
  const file = path.join(devRoot.workspace.dir, '.env');
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return false;
  writeFileAtomic(file, text);
  return true;
}
