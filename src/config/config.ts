import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { UsageError } from '../errors.js';
import { DEFAULT_MAX_AGENTS, checkPathArg, checkRepoName } from '../validate.js';

/** The image devkit bootstraps with debootstrap when devkit.yml names no other. */
export const DEFAULT_BASE_IMAGE = 'devkit/base:bookworm';

import { CONFIG_FILE, findConfigFile } from './find.js';
import { validateEgress, validateSsh, type EgressConfig, type SshConfig } from './sections.js';

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
}

/** The directory devkit runs in, and its config. */
export interface Workspace {
  dir: string;
  /** null when the config comes from DEVKIT_ROOT / DEVKIT_REPO alone. */
  configPath: string | null;
  config: DevkitConfig;
}

type Raw = Record<string, unknown>;

const KNOWN_KEYS = ['root', 'repo', 'maxAgents', 'baseImage', 'egress', 'ssh'] as const;

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
  if (typeof baseImage !== 'string' || !/^[a-z0-9][a-z0-9._\/:@-]{0,254}$/.test(baseImage)) {
    throw new UsageError(`${where.file}: 'baseImage' must be an image reference like registry.example/debian:bookworm, got ${JSON.stringify(baseImage)}`);
  }
  return {
    root: checkPathArg(root, { label: `${where.file}: 'root'`, base: where.dir }),
    repo: checkRepoName(repo),
    maxAgents,
    baseImage,
    egress: validateEgress(fields.egress, where.file),
    ssh: validateSsh(fields.ssh, where.file),
  };
}

function requireString(fields: Raw, key: string, file: string): string {
  const value = fields[key];
  if (value === undefined) throw new UsageError(`${file}: missing key '${key}'`);
  if (typeof value !== 'string') throw new UsageError(`${file}: '${key}' must be a string, got ${JSON.stringify(value)}`);
  return value;
}

export function parseConfigText(text: string, where: { file: string; dir: string }): DevkitConfig {
  const doc = parseDocument(text, { prettyErrors: false });
  const firstError = doc.errors[0];
  if (firstError !== undefined) {
    throw new UsageError(`${where.file}: not valid YAML: ${firstError.message.split('\n')[0]}`);
  }
  return validateConfig(doc.toJS(), where);
}

/**
 * Loads the workspace for a command: devkit.yml from cwd or a parent, with
 * DEVKIT_ROOT / DEVKIT_REPO overriding it (or standing in for it).
 */
export function loadWorkspace(cwd: string, env: NodeJS.ProcessEnv): Workspace {
  const configPath = findConfigFile(cwd);
  const envRoot = env.DEVKIT_ROOT;
  const envRepo = env.DEVKIT_REPO;
  if (configPath === null) {
    if (envRoot === undefined || envRepo === undefined) {
      throw new UsageError(`no ${CONFIG_FILE} in ${cwd} or any parent: run devkit init --root DIR --repo NAME first`);
    }
    return {
      dir: cwd,
      configPath: null,
      config: validateConfig({ root: envRoot, repo: envRepo }, { file: 'DEVKIT_ROOT/DEVKIT_REPO', dir: cwd }),
    };
  }
  const dir = path.dirname(configPath);
  const config = parseConfigText(readFileSync(configPath, 'utf8'), { file: configPath, dir });
  return {
    dir,
    configPath,
    config: {
      ...config,
      root: envRoot === undefined ? config.root : checkPathArg(envRoot, { label: 'DEVKIT_ROOT', base: cwd }),
      repo: envRepo === undefined ? config.repo : checkRepoName(envRepo),
    },
  };
}
