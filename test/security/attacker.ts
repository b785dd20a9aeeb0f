import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { removeStacks } from '../support/docker.js';
import { devkit, makeDevRoot, tempDir, type DevRootFixture, type RunResult } from '../support/sandbox.js';

/**
 * The attacker of ../shared/docs/threat-model.md: whatever runs inside an
 * agent's container. Each security test does what the attacker did, from
 * inside a real container where the attacker was in one, then runs the devkit
 * command the user would, and checks the guarantee held.
 */
export interface Arena {
  fx: DevRootFixture;
  /** A folder on the host that no container mounts: markers an attack would make appear here. */
  markers: string;
  run(args: string[], env?: Record<string, string>): Promise<RunResult>;
  /** A shell script as agent K in its own container (profile agentK), in its copy. */
  inAgent(k: number, script: string): Promise<RunResult>;
  /** A shell script in the dev-all container, as agent K, in `where` (a path under the dev root). */
  inDevAll(k: number, where: string, script: string): Promise<RunResult>;
  /** The marker files an attack left on the host. */
  markersLeft(): string[];
  tearDown(): Promise<void>;
}

/** A dev root with agents 1..`agents`, the profiles in `up` running. */
export async function makeArena(options: { agents: number; up: string[] }): Promise<Arena> {
  const fx = await makeDevRoot();
  const markers = tempDir('markers');
  mkdirSync(markers, { recursive: true });
  const run = (args: string[], env?: Record<string, string>) => devkit(args, { cwd: fx.workspace, env });
  const tearDown = async () => {
    await removeStacks(fx.root, fx.repo);
    fx.cleanup();
    rmSync(markers, { recursive: true, force: true });
  };
  try {
    expect((await run(['worktrees', 'init', String(options.agents)])).exitCode).toBe(0);
    const ups = await Promise.all(options.up.map((profile) => run(['-p', profile, 'up'])));
    for (const up of ups)
      expect({ exitCode: up.exitCode, stderr: up.exitCode === 0 ? '' : up.stderr }).toEqual({ exitCode: 0, stderr: '' });
  } catch (error) {
    await tearDown(); // the suite's afterAll has no arena to tear down: nothing is left behind
    throw error;
  }
  return {
    fx,
    markers,
    run,
    inAgent: (k, script) => run(['-p', `agent${k}`, 'exec-cd', String(k), '.', 'sh', '-c', script]),
    inDevAll: (k, where, script) => run(['-p', 'dev-all', 'exec-cd', String(k), where, 'sh', '-c', script]),
    markersLeft: () => (existsSync(markers) ? readdirSync(markers) : []),
    tearDown,
  };
}

/** A shell command that, run anywhere on the host, leaves a marker named `name` in the arena's markers folder. */
export function marker(arena: Arena, name: string): string {
  return `touch ${path.join(arena.markers, name)}`;
}
