import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Fleet } from '../fleet/fleet.js';
import { agentName, agentPaths } from '../fleet/layout.js';
import type { AgentRecord } from '../fleet/records.js';
import { withSafeDir } from '../fs/safe.js';
import type { RootState } from '../state/root-state.js';

export type HookName = 'postCreate' | 'preRemove';

/** One run of a devkit.yml hook for one agent: its exit code and where its output is kept. */
export interface HookRun {
  agent: string;
  hook: HookName;
  exitCode: number;
  log: string;
}

/**
 * Agent K's hook records, in devkit's state folder (no container reaches it):
 * `hooks/agentK/<hook>.log` holds the last run's output, `postCreate.done`
 * says which copy of agent K it ran for, `<hook>.lock` serialises runs.
 */
export function hookDir(state: RootState, index: number): string {
  const dir = path.join(state.dir, 'hooks', agentName(index));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** The hook's commands as one shell script: each in a shell of its own, in order, stopping at the first that fails. */
export function hookScript(commands: readonly string[]): string {
  return commands.map((command) => `( ${command}\n) || exit $?`).join('\n');
}

/** One line for hook runs that failed, or null when none did. */
export function hookFailure(runs: readonly HookRun[], then: string): string | null {
  const failed = runs.filter((run) => run.exitCode !== 0);
  if (failed.length === 0) return null;
  const each = failed.map((run) => `${run.agent}'s ${run.hook} hook failed (exit ${run.exitCode}; its output: ${run.log})`);
  return `${each.join('; ')}: ${then}`;
}

/**
 * Whether agent K's copy is there to run a hook in (a vanished one is
 * prune's business). A remote agent's copy (its record names an engine) is a
 * volume on its engine, made by its up (pre-remove.ts asks that engine).
 */
export function copyPresent(fleet: Pick<Fleet, 'config'>, index: number, record: AgentRecord): boolean {
  if (record.engine !== undefined) return true;
  return withSafeDir(fleet.config.root, agentPaths(fleet.config, index).rel.worktree, () => true) !== null;
}
