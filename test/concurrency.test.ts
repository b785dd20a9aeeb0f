import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { agentCopy, agentRecords, devkit, git, rootStateOf, useDevRoot, type DevRootFixture } from './support/sandbox.js';

describe('concurrent devkit runs on one repo', () => {
  const devRoot = useDevRoot({ agents: 6, files: 200 });
  let fx: DevRootFixture;
  beforeEach(() => {
    fx = devRoot();
  });

  it('eight init/remove processes started at once all succeed and leave the repo consistent', async () => {
    // Whatever order they run in, each of these succeeds: removes target clean agents that exist
    // at the start, and an init re-making a removed agent is fine.
    const commands = [
      ['worktrees', 'init', '8'],
      ['worktrees', 'remove', '3'],
      ['worktrees', 'init', '8'],
      ['worktrees', 'remove', '4'],
      ['worktrees', 'init', '7'],
      ['worktrees', 'remove', '5'],
      ['worktrees', 'init', '8'],
      ['worktrees', 'remove', '6'],
    ];
    const results = await Promise.all(commands.map((args) => devkit(args, { cwd: fx.workspace })));
    results.forEach((result, i) => {
      expect({ command: commands[i]?.join(' '), exitCode: result.exitCode, stderr: result.stderr }).toEqual({
        command: commands[i]?.join(' '),
        exitCode: 0,
        stderr: expect.not.stringMatching(/lock|fatal|error/i),
      });
    });

    await git(fx.primary, ['fsck', '--no-progress', '--strict']);
    // Agents 2, 7 and 8 were never removed; every agent folder on disk has devkit's record, and every record its folder.
    const records = agentRecords(fx);
    for (const k of [2, 3, 4, 5, 6, 7, 8]) expect({ k, copy: existsSync(agentCopy(fx, k)) }).toEqual({ k, copy: records.includes(k) });
    for (const k of [2, 7, 8]) expect(records).toContain(k);
    const listed = JSON.parse((await devkit(['worktrees', 'list', '--json'], { cwd: fx.workspace })).stdout) as {
      agents: Array<{ index: number; condition: string; exists: boolean }>;
    };
    const indexes = listed.agents.map((a) => a.index);
    expect(new Set(indexes).size).toBe(indexes.length);
    expect(listed.agents.every((a) => a.condition === 'ok' && a.exists)).toBe(true);
    expect(existsSync(path.join(rootStateOf(fx), 'lock'))).toBe(false);
    expect(readdirSync(path.join(rootStateOf(fx), 'agents')).filter((name) => name.startsWith('.devkit-tmp'))).toEqual([]);
  });
});
