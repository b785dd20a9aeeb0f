import path from 'node:path';
import { loadWorkspace, type DevkitConfig, type Workspace } from '../config/config.js';
import type { Io } from '../io.js';
import { withRepoLock } from '../lock.js';
import { openRepo, type Repo } from '../git/repo.js';
import { primaryClone } from './layout.js';

/** What every command gets from the process: where it runs and how it talks. */
export interface CommandContext {
  io: Io;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** A workspace whose primary clone has been opened. */
export interface DevRoot {
  workspace: Workspace;
  config: DevkitConfig;
  repo: Repo;
}

export async function openDevRoot(context: CommandContext): Promise<DevRoot> {
  const workspace = loadWorkspace(context.cwd, context.env);
  const repo = await openRepo(primaryClone(workspace.config));
  return { workspace, config: workspace.config, repo };
}

/** Runs `body` holding devkit's lock on the repo (see lock.ts). */
export function withDevRootLock<T>(devRoot: DevRoot, context: CommandContext, command: string, body: () => Promise<T>): Promise<T> {
  return withRepoLock({ path: path.join(devRoot.repo.commonDir, 'devkit.lock'), command, io: context.io }, body);
}
