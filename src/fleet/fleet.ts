import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CommandContext } from '../cli/context.js';
import { loadWorkspace, type DevkitConfig, type Workspace } from '../config/config.js';
import { gitBase, type GitBase } from '../git/git.js';
import { openSharedRepo, type SharedRepo } from '../git/repo.js';
import { withRepoLock } from '../state/lock.js';
import { rootState, type RootState } from '../state/root-state.js';
import { primaryClone } from './layout.js';

/**
 * The agents of one dev root, as a command sees them: the workspace that
 * manages the root (devkit.yml, compose files), the shared repo (the primary
 * clone), and devkit's own state for the root. Opened once per command.
 */
export interface Fleet {
  workspace: Workspace;
  config: DevkitConfig;
  shared: SharedRepo;
  state: RootState;
  git: GitBase;
  env: NodeJS.ProcessEnv;
}

/** The fleet as devkit.yml and the state folder describe it (commands open it with openFleet, which also moves a 0.1.0 layout). */
export async function loadFleet(context: CommandContext): Promise<Fleet> {
  const workspace = await loadWorkspace(context.cwd, context.env);
  const base = gitBase(context.env);
  const shared = openSharedRepo(base, primaryClone(workspace.config));
  const state = rootState(workspace.stateDir);
  for (const dir of [state.dir, state.agentsDir, state.teamsDir, state.tmpDir]) mkdirSync(dir, { recursive: true, mode: 0o700 });
  return { workspace, config: workspace.config, shared, state, git: base, env: context.env };
}

/** Runs `body` holding devkit's lock on the dev root (state/lock.ts). */
export function withFleetLock<T>(fleet: Fleet, context: CommandContext, command: string, body: () => Promise<T>): Promise<T> {
  return withRepoLock({ file: fleet.state.lockFile, command, io: context.io, env: fleet.env }, body);
}

/** What format devkit's state for a root is in: 2 once a 0.1.0 layout has been moved (or there was none). */
export const STATE_FORMAT = '2';

export function stateFormatFile(fleet: Pick<Fleet, 'state'>): string {
  return path.join(fleet.state.dir, 'format');
}

/** True when nothing of devkit 0.1.0 is left to move for this root (one small file read). */
export function movedFromOldLayout(fleet: Pick<Fleet, 'state'>): boolean {
  try {
    return readFileSync(stateFormatFile(fleet), 'utf8').trim() === STATE_FORMAT;
  } catch {
    return false;
  }
}
