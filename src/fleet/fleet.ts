import { mkdirSync } from 'node:fs';
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
export function loadFleet(context: CommandContext): Fleet {
  const workspace = loadWorkspace(context.cwd, context.env);
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
