import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { CommandContext } from '../../cli/context.js';
import { CONFIG_FILE, checkPlacement, parseConfigText, type DevkitConfig } from '../../config/config.js';
import { UsageError } from '../../errors.js';
import { writeFileAtomic } from '../../fs/atomic.js';
import { knownRoots, stateHome } from '../../state/registry.js';
import { ensureStackFiles } from '../../stack/workspace-files.js';
import { devkitInstallDir } from '../../install.js';
import { DEFAULT_MAX_AGENTS, checkPathArg, checkRepoName, resolveExisting } from '../../validate.js';

export interface InitOptions {
  root: string;
  repo: string;
  force?: boolean;
  json?: boolean;
}

export interface InitResult {
  configPath: string;
  root: string;
  repo: string;
  /** compose.yml and overlays/dev-all, written from the packaged templates where missing. */
  stackFiles: string[];
  changed: boolean;
}

function renderConfig(config: Pick<DevkitConfig, 'root' | 'repo'>): string {
  return (
    "# devkit workspace (see devkit's README.md). DEVKIT_ROOT and DEVKIT_REPO override these.\n" +
    stringify({ root: config.root, repo: config.repo }) +
    `# maxAgents: ${DEFAULT_MAX_AGENTS}\n`
  );
}

/** Writes devkit.yml in the current directory, which becomes the workspace. */
export async function initWorkspace(options: InitOptions, context: CommandContext): Promise<InitResult> {
  const root = checkPathArg(options.root, { label: '--root', base: context.cwd });
  const repo = checkRepoName(options.repo);
  if (existsSync(root) && !statSync(root).isDirectory()) throw new UsageError(`--root ${root} exists and is not a directory`);
  checkPlacement(root, {
    workspace: resolveExisting(context.cwd),
    stateHome: resolveExisting(stateHome(context.env)),
    install: devkitInstallDir(),
  });
  const configPath = path.join(context.cwd, CONFIG_FILE);
  // One workspace per dev root: a second one would name the same compose projects and recreate the first one's containers.
  const manager = knownRoots(stateHome(context.env))
    .find((record) => record.root === root)
    ?.workspaces.filter((workspace) => workspace !== context.cwd && existsSync(path.join(workspace, CONFIG_FILE)))
    .at(-1);
  if (manager !== undefined && options.force !== true) {
    throw new UsageError(
      `the dev root ${root} is managed by the workspace ${manager}: run devkit there, or pass --force to manage it from here ` +
        `(then remove ${path.join(manager, CONFIG_FILE)}: both would drive the same containers)`,
    );
  }
  if (existsSync(configPath)) {
    const current = await parseConfigText(readFileSync(configPath, 'utf8'), { file: configPath, dir: context.cwd });
    if (current.root === root && current.repo === repo) {
      const stackFiles = ensureStackFiles(context.cwd);
      return { configPath, root, repo, stackFiles, changed: stackFiles.length > 0 };
    }
    if (options.force !== true)
      throw new UsageError(`${configPath} already names root ${current.root} and repo ${current.repo}; pass --force to replace them`);
  }
  writeFileAtomic(configPath, renderConfig({ root, repo }));
  return { configPath, root, repo, stackFiles: ensureStackFiles(context.cwd), changed: true };
}

export async function run(options: InitOptions, context: CommandContext): Promise<number> {
  const result = await initWorkspace(options, context);
  if (options.json) context.io.json(result);
  else if (!result.changed) context.io.out(`${result.configPath} already says this; nothing changed`);
  else for (const file of [result.configPath, ...result.stackFiles]) context.io.out(`wrote ${file}`);
  return 0;
}
