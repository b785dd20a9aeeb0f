import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { isInside } from '../fs/paths.js';
import { registerWorkspace } from '../state/registry.js';
import { devkitInstallDir } from '../install.js';
import { DEFAULT_MAX_AGENTS, checkPathArg, checkRepoName, resolveExisting } from '../validate.js';
import { CONFIG_FILE } from './find.js';
import { locateWorkspace } from './locate.js';
import {
  validateEgress,
  validateEngines,
  validateGitIdentity,
  validateHooks,
  validateImage,
  validateRegistry,
  validateSsh,
  type EgressConfig,
  type EnginesConfig,
  type GitIdentityConfig,
  type HooksConfig,
  type ImageConfig,
  type SshConfig,
} from './sections.js';
import { parseYaml, parseYamlCached, type ParsedYaml } from './yaml-cache.js';

/** The image devkit bootstraps with debootstrap when devkit.yml names no other. */
export const DEFAULT_BASE_IMAGE = 'devkit/base:bookworm';

export { CONFIG_FILE };

/** devkit.yml, validated. Paths are absolute. */
export interface DevkitConfig {
  /** The dev root: holds the primary clone and the agents' folders. */
  root: string;
  /** The repository's folder name under the root (the primary clone). */
  repo: string;
  /** Upper bound for agent indexes. */
  maxAgents: number;
  /** The image the stack's images build on; bootstrapped with debootstrap when it is the default and missing. */
  baseImage: string;
  egress: EgressConfig;
  ssh: SshConfig;
  /** The git identity new HOMEs get. */
  git: GitIdentityConfig;
  /** What the dev image gets on top of devkit's (packages, npm CLIs, the user's Dockerfile). */
  image: ImageConfig;
  /** Shell commands run inside an agent's container after its first up and before its removal. */
  hooks: HooksConfig;
  /** The docker contexts agents run on (`engine:`, `agents.agentK.engine`). */
  engines: EnginesConfig;
  /** Where remote engines pull devkit's images from (HOST[:PORT][/PATH]); null: they are copied with save/load. */
  registry: string | null;
}

/** The directory devkit runs in, and its config. */
export interface Workspace {
  dir: string;
  /** null when the config comes from DEVKIT_ROOT / DEVKIT_REPO alone. */
  configPath: string | null;
  config: DevkitConfig;
  /** devkit's state for this dev root (see state/registry.ts). */
  stateDir: string;
}

type Raw = Record<string, unknown>;

const KNOWN_KEYS = [
  'root',
  'repo',
  'maxAgents',
  'baseImage',
  'egress',
  'ssh',
  'git',
  'image',
  'hooks',
  'engine',
  'agents',
  'registry',
] as const;

/** Validates parsed devkit.yml content; every message names the key at fault. */
export function validateConfig(raw: unknown, where: { file: string; dir: string }): DevkitConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UsageError(`${where.file}: expected a mapping of settings (root, repo, ...)`);
  }
  const fields = raw as Raw;
  for (const key of Object.keys(fields)) {
    if (!(KNOWN_KEYS as readonly string[]).includes(key)) {
      throw new UsageError(`${where.file}: unknown key '${key}' (known keys: ${KNOWN_KEYS.join(', ')})`);
    }
  }
  const root = requireString(fields, 'root', where.file);
  const repo = requireString(fields, 'repo', where.file);
  const maxAgents = fields.maxAgents ?? DEFAULT_MAX_AGENTS;
  if (typeof maxAgents !== 'number' || !Number.isInteger(maxAgents) || maxAgents < 1 || maxAgents > 999) {
    throw new UsageError(`${where.file}: 'maxAgents' must be an integer from 1 to 999, got ${JSON.stringify(maxAgents)}`);
  }
  const baseImage = fields.baseImage ?? DEFAULT_BASE_IMAGE;
  if (typeof baseImage !== 'string' || !/^[a-z0-9][a-z0-9._/:@-]{0,254}$/.test(baseImage)) {
    throw new UsageError(
      `${where.file}: 'baseImage' must be an image reference like registry.example/debian:bookworm, got ${JSON.stringify(baseImage)}`,
    );
  }
  return {
    root: checkPathArg(root, { label: `${where.file}: 'root'`, base: where.dir }),
    repo: checkRepoName(repo),
    maxAgents,
    baseImage,
    egress: validateEgress(fields.egress, where.file),
    ssh: validateSsh(fields.ssh, where.file),
    git: validateGitIdentity(fields.git, where.file),
    image: validateImage(fields.image, where.file, (raw, what) => {
      const file = checkPathArg(raw, { label: `${where.file}: '${what}'`, base: where.dir });
      if (!existsSync(file)) throw new UsageError(`${where.file}: '${what}' names ${file}, which does not exist`);
      return file;
    }),
    hooks: validateHooks(fields.hooks, where.file),
    engines: validateEngines(fields.engine, fields.agents, where.file),
    registry: validateRegistry(fields.registry, where.file),
  };
}

function requireString(fields: Raw, key: string, file: string): string {
  const value = fields[key];
  if (value === undefined) throw new UsageError(`${file}: missing key '${key}'`);
  if (typeof value !== 'string') throw new UsageError(`${file}: '${key}' must be a string, got ${JSON.stringify(value)}`);
  return value;
}

function configFrom(parsed: ParsedYaml, where: { file: string; dir: string }): DevkitConfig {
  if (!parsed.ok) throw new UsageError(`${where.file}: not valid YAML: ${parsed.error}`);
  return validateConfig(parsed.value, where);
}

/** devkit.yml's text, parsed and validated. */
export async function parseConfigText(text: string, where: { file: string; dir: string }): Promise<DevkitConfig> {
  return configFrom(await parseYaml(text), where);
}

/** Refuses a dev root that holds what devkit must trust: the workspace, devkit's state, devkit itself. */
export function checkPlacement(root: string, places: { workspace: string; stateHome: string; install: string }): void {
  const trusted: Array<[what: string, dir: string, fix: string]> = [
    ['the workspace', places.workspace, 'keep devkit.yml, compose.yml and overlays/ outside it'],
    ["devkit's state", places.stateHome, 'set DEVKIT_STATE_DIR to a folder outside it'],
    ['devkit itself', places.install, 'install devkit outside it'],
  ];
  for (const [what, dir, fix] of trusted) {
    if (isInside(dir, root)) {
      throw new UsageError(`${what} (${dir}) is inside the dev root ${root}, where agents can write (dev-all mounts all of it): ${fix}`);
    }
  }
}

/** Refuses image inputs an agent could write: a Dockerfile is built and an npm tarball installed on the host. */
export function checkImageInputs(root: string, image: ImageConfig): void {
  for (const file of [...(image.dockerfile === null ? [] : [image.dockerfile]), ...image.npm.filter((spec) => path.isAbsolute(spec))]) {
    if (isInside(resolveExisting(file), root))
      throw new UsageError(
        `${file} (in devkit.yml's image section) is inside the dev root ${root}, where agents can write: keep it in the workspace`,
      );
  }
}

/**
 * Loads the workspace for a command (see locate.ts for where it is found),
 * with DEVKIT_ROOT / DEVKIT_REPO overriding devkit.yml (or standing in for it),
 * refuses a dev root that holds the workspace, devkit's state or devkit, and
 * records which workspace manages the root.
 */
export async function loadWorkspace(cwd: string, env: NodeJS.ProcessEnv): Promise<Workspace> {
  const location = locateWorkspace(cwd, env);
  const { dir, configPath } = location;
  const read =
    configPath === null ? null : await parseYamlCached(readFileSync(configPath, 'utf8'), { stateHome: location.stateHome, configPath });
  const fromFile = configPath === null || read === null ? null : configFrom(read.parsed, { file: configPath, dir });
  const config =
    fromFile === null
      ? validateConfig({ root: env.DEVKIT_ROOT, repo: env.DEVKIT_REPO }, { file: 'DEVKIT_ROOT/DEVKIT_REPO', dir: cwd })
      : {
          ...fromFile,
          root: env.DEVKIT_ROOT === undefined ? fromFile.root : checkPathArg(env.DEVKIT_ROOT, { label: 'DEVKIT_ROOT', base: cwd }),
          repo: env.DEVKIT_REPO === undefined ? fromFile.repo : checkRepoName(env.DEVKIT_REPO),
        };
  checkPlacement(config.root, {
    workspace: resolveExisting(dir),
    stateHome: resolveExisting(location.stateHome),
    install: devkitInstallDir(),
  });
  checkImageInputs(config.root, config.image);
  read?.remember();
  // A workspace is recorded only when it has a devkit.yml: DEVKIT_ROOT/DEVKIT_REPO alone make no workspace to come back to.
  const stateDir = registerWorkspace(location.stateHome, config.root, config.repo, configPath === null ? null : dir);
  return { dir, configPath, config, stateDir };
}
