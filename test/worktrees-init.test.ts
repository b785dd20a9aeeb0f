import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { agentCopy, agentHome, devkit, git, useDevRoot, snapshot, worktreeRecords, type DevRootFixture } from './support/sandbox.js';

describe('devkit worktrees init', () => {
  const devRoot = useDevRoot({  });
  let fx: DevRootFixture;
  beforeEach(() => {
    fx = devRoot();
  });

  it('makes agents 2..4 as locked worktrees on agentK/main, each with a HOME, that git worktree prune keeps', async () => {
    const result = await devkit(['worktrees', 'init', '4'], { cwd: fx.workspace });
    expect(result.exitCode).toBe(0);

    const head = (await git(fx.primary, ['rev-parse', 'HEAD'])).trim();
    const expected = [2, 3, 4].map((k) => ({ path: agentCopy(fx, k), branch: `refs/heads/agent${k}/main`, locked: true }));
    expect((await worktreeRecords(fx.primary)).slice(1)).toEqual(expected);
    for (const k of [2, 3, 4]) {
      expect((await git(agentCopy(fx, k), ['rev-parse', 'HEAD'])).trim()).toBe(head);
      expect(statSync(agentHome(fx, k)).mode & 0o777).toBe(0o700);
      expect(statSync(path.join(agentHome(fx, k), '.ssh')).mode & 0o777).toBe(0o700);
    }
    expect(existsSync(agentHome(fx, 1))).toBe(true);
    expect((await git(fx.primary, ['config', '--get', 'gc.auto'])).trim()).toBe('0');

    await git(fx.primary, ['worktree', 'prune', '--expire=now']);
    expect((await worktreeRecords(fx.primary)).slice(1)).toEqual(expected);
  });

  it('changes nothing when run again, and says so', async () => {
    await devkit(['worktrees', 'init', '3'], { cwd: fx.workspace });
    const before = snapshot(fx.root);
    const again = await devkit(['worktrees', 'init', '3'], { cwd: fx.workspace });
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toContain('nothing changed');
    expect(snapshot(fx.root)).toEqual(before);
  });

  it('adds only the missing agents when N grows, leaving work in existing ones alone', async () => {
    await devkit(['worktrees', 'init', '2'], { cwd: fx.workspace });
    await git(agentCopy(fx, 2), ['commit', '-q', '--allow-empty', '-m', 'agent 2 work']);
    const agent2Head = (await git(agentCopy(fx, 2), ['rev-parse', 'HEAD'])).trim();
    const result = await devkit(['worktrees', 'init', '4', '--json'], { cwd: fx.workspace });
    expect(result.exitCode).toBe(0);
    const parsed = JSON.parse(result.stdout) as { agents: Array<{ index: number; action: string }> };
    expect(parsed.agents.map((a) => [a.index, a.action])).toEqual([
      [1, 'present'],
      [2, 'present'],
      [3, 'created'],
      [4, 'created'],
    ]);
    expect((await git(agentCopy(fx, 2), ['rev-parse', 'HEAD'])).trim()).toBe(agent2Head);
  });

  it('starts new branches from --base and tracks it when it is a branch', async () => {
    const first = (await git(fx.primary, ['rev-parse', 'HEAD~1'])).trim();
    await git(fx.primary, ['branch', 'release', first]);
    const result = await devkit(['worktrees', 'init', '2', '--base', 'release'], { cwd: fx.workspace });
    expect(result.exitCode).toBe(0);
    expect((await git(agentCopy(fx, 2), ['rev-parse', 'HEAD'])).trim()).toBe(first);
    expect((await git(agentCopy(fx, 2), ['rev-parse', '--abbrev-ref', '@{upstream}'])).trim()).toBe('release');
  });

  it('locks again an agent worktree that was unlocked by hand', async () => {
    await devkit(['worktrees', 'init', '2'], { cwd: fx.workspace });
    await git(fx.primary, ['worktree', 'unlock', agentCopy(fx, 2)]);
    const result = await devkit(['worktrees', 'init', '2'], { cwd: fx.workspace });
    expect(result.stdout).toMatch(/agent2.*locked again/);
    expect((await worktreeRecords(fx.primary))[1]?.locked).toBe(true);
  });
});
