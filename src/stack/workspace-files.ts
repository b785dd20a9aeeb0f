import { copyFileSync, existsSync, mkdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { SshConfig } from '../config/sections.js';
import { DevkitError } from '../errors.js';
import type { Fleet } from '../fleet/fleet.js';
import type { Owner } from '../fleet/owner.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { policyDir } from '../policy/paths.js';
import { projectPrefix } from './project-names.js';
import { templatePath } from '../install.js';
import { renderText } from '../templates.js';
import { ENV_FILE, formatComposeEnv, type ComposeEnv } from './env-file.js';
import type { ProjectNetwork } from './network.js';

export const COMPOSE_FILE = 'compose.yml';
export const DEV_ALL = 'dev-all';

/** What containers made by this devkit carry as `devkit.sandbox`; doctor flags containers without it (made by 0.1.0). */
export const SANDBOX_VERSION = '2';

export function overlayFile(workspaceDir: string, profile: string): string {
  return path.join(workspaceDir, 'overlays', profile, 'compose.override.yml');
}

/** The user's own compose overlay: beside compose.yml for every profile, and in a profile's overlay folder for that profile. */
export const LOCAL_OVERLAY = 'compose.local.yml';

/**
 * The user's overlays a profile's stack is layered with, after devkit's
 * (those that exist): extra mounts, environment, networks for the sidecars.
 * devkit never writes them; the sandbox check still applies to the result.
 */
export function localOverlays(workspaceDir: string, profile: string): string[] {
  return [path.join(workspaceDir, LOCAL_OVERLAY), path.join(workspaceDir, 'overlays', profile, LOCAL_OVERLAY)].filter((file) =>
    existsSync(file),
  );
}

/** The template files compose.yml and overlays/dev-all are made from. */
function stackTemplates(workspaceDir: string): Array<[from: string, to: string]> {
  return [
    [templatePath('compose.yml'), path.join(workspaceDir, COMPOSE_FILE)],
    [templatePath('overlays/dev-all/compose.override.yml'), overlayFile(workspaceDir, DEV_ALL)],
  ];
}

/**
 * Writes compose.yml and overlays/dev-all from the packaged templates where
 * they are missing; files already there are the user's and are kept (devkit
 * checks the stack they make before every up: sandbox-check.ts). Returns the
 * files written.
 */
export function ensureStackFiles(workspaceDir: string): string[] {
  const written: string[] = [];
  for (const [from, to] of stackTemplates(workspaceDir)) {
    if (existsSync(to)) continue;
    mkdirSync(path.dirname(to), { recursive: true });
    copyFileSync(from, to);
    written.push(to);
  }
  return written;
}

/** Writes overlays/dev-all again from devkit's template (`overlay create dev-all`); returns whether it changed. */
export function rewriteDevAllOverlay(workspaceDir: string): boolean {
  const [, [from, to]] = stackTemplates(workspaceDir) as [[string, string], [string, string]];
  const text = readFileSync(from, 'utf8');
  if (existsSync(to) && readFileSync(to, 'utf8') === text) return false;
  mkdirSync(path.dirname(to), { recursive: true });
  writeFileAtomic(to, text);
  return true;
}

/** The folder with the files a profile's dev container mounts read-only: passwd, group and its ssh client config. */
export function usersDir(workspaceDir: string, profile: string): string {
  return path.join(workspaceDir, '.devkit', 'users', profile);
}

/** Where the container finds each file of usersDir. */
export const USER_FILES = { passwd: '/etc/passwd', group: '/etc/group', ssh_config: '/etc/ssh/ssh_config.d/devkit.conf' } as const;

/**
 * The files a dev container mounts read-only to know who its user is and how
 * ssh leaves it: passwd and group (the image's system users and the agent's
 * uid, so ssh and git find a user; nothing in the container can change them:
 * 0.1.0 made /etc/passwd world-writable for this), and an ssh client config
 * sending plain `ssh` (not only git's) through the egress proxy, to the
 * configured git host as ssh-setup names it.
 */
export function writeUserFiles(workspaceDir: string, profile: string, user: { owner: Owner; home: string; ssh: SshConfig }): void {
  const { owner, home, ssh } = user;
  const dir = usersDir(workspaceDir, profile);
  mkdirSync(dir, { recursive: true });
  const passwd = [
    'root:x:0:0:root:/root:/usr/sbin/nologin',
    'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
    ...(owner.uid === 0 || owner.uid === 65534 ? [] : [`devkit:x:${owner.uid}:${owner.gid}:devkit agent:${home}:/bin/bash`]),
  ];
  const group = ['root:x:0:', 'nogroup:x:65534:', ...(owner.gid === 0 || owner.gid === 65534 ? [] : [`devkit:x:${owner.gid}:`])];
  const files: Record<keyof typeof USER_FILES, string> = {
    passwd: `${passwd.join('\n')}\n`,
    group: `${group.join('\n')}\n`,
    ssh_config: renderText('ssh/system-config.hbs', ssh),
  };
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, name);
    if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileAtomic(file, text, { mode: 0o644 });
  }
}

/**
 * Writes .env beside compose.yml: the values the checked-in dev-all overlay
 * reads, so `docker compose -f compose.yml -f overlays/dev-all/...` works by hand.
 */
export function writeComposeEnv(fleet: Fleet, devAllNetwork: ProjectNetwork, user: { owner: Owner; devImage: string }): boolean {
  const { owner } = user;
  const values: ComposeEnv = {
    DEVKIT_PROJECT: projectPrefix(fleet.config),
    DEVKIT_ROOT: fleet.config.root,
    DEVKIT_REPO: fleet.config.repo,
    DEVKIT_GIT_DIR: fleet.shared.gitDir,
    DEVKIT_WORKSPACE: fleet.workspace.dir,
    DEVKIT_UID: String(owner.uid),
    DEVKIT_GID: String(owner.gid),
    DEVKIT_SUBNET: devAllNetwork.subnet,
    DEVKIT_IP_RANGE: devAllNetwork.ipRange,
    DEVKIT_DNS_IP: devAllNetwork.dnsIp,
    DEVKIT_POLICY_DIR: policyDir(fleet.workspace.dir, DEV_ALL),
    DEVKIT_USERS_DIR: usersDir(fleet.workspace.dir, DEV_ALL),
    DEVKIT_SANDBOX: SANDBOX_VERSION,
    DEVKIT_MAX_AGENTS: String(fleet.config.maxAgents),
    DEVKIT_DEV_IMAGE: user.devImage,
  };
  const formatted = formatComposeEnv(values);
  if ('bad' in formatted) throw new DevkitError(formatted.bad);
  const { text } = formatted;
  const file = path.join(fleet.workspace.dir, ENV_FILE);
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return false;
  writeFileAtomic(file, text);
  return true;
}

/**
 * Removes what devkit generated in the workspace for a profile that is gone
 * (its overlay and the folder holding it, its policy files, its passwd and
 * group): nothing there is anybody's work. A file someone else put in the
 * overlay folder keeps the folder.
 */
export function removeProfileFiles(workspaceDir: string, profile: string): void {
  const overlay = overlayFile(workspaceDir, profile);
  rmSync(overlay, { force: true });
  try {
    rmdirSync(path.dirname(overlay));
  } catch {
    // not empty, or already gone
  }
  rmSync(policyDir(workspaceDir, profile), { recursive: true, force: true });
  rmSync(usersDir(workspaceDir, profile), { recursive: true, force: true });
}
