import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  AGENT_UID,
  agentCopy,
  agentGit,
  agentHome,
  agentRecords,
  devkit,
  git,
  snapshot,
  useDevRoot,
  type DevRootFixture,
} from './support/sandbox.js';

describe('devkit worktrees init', () => {
  const devRoot = useDevRoot();
  let fx: DevRootFixture;
  beforeEach(() => {
    fx = devRoot();
  });

  it('makes agents 2..4, each a copy of its own on agentK/main borrowing the shared objects, with a HOME', async () => {
    const result = await devkit(['worktrees', 'init', '4'], { cwd: fx.workspace });
    expect(result).toMatchObject({ exitCode: 0, stderr: '' });
    const head = (await git(fx.primary, ['rev-parse', 'HEAD'])).trim();
    expect(agentRecords(fx)).toEqual([2, 3, 4]);
    for (const k of [2, 3, 4]) {
      const copy = agentCopy(fx, k);
      expect((await agentGit(copy, ['rev-parse', '--abbrev-ref', 'HEAD'])).trim()).toBe(`agent${k}/main`);
      expect((await agentGit(copy, ['rev-parse', 'HEAD'])).trim()).toBe(head);
      expect((await agentGit(copy, ['status', '--porcelain'])).trim()).toBe('');
      // Nothing copied: its objects are the shared store's, named in its alternates.
      expect(readFileSync(path.join(copy, '.git', 'objects', 'info', 'alternates'), 'utf8')).toBe(`${fx.primary}/.git/objects\n`);
      expect((await agentGit(copy, ['count-objects'])).trim()).toBe('0 objects, 0 kilobytes');
      // Every shared branch reads as origin's, and its own tracks its base.
      expect((await agentGit(copy, ['rev-parse', 'origin/main'])).trim()).toBe(head);
      expect((await agentGit(copy, ['rev-parse', '--abbrev-ref', '@{upstream}'])).trim()).toBe('origin/main');
      expect((await git(fx.primary, ['rev-parse', `agent${k}/main`])).trim()).toBe(head);
      expect(statSync(copy).uid).toBe(AGENT_UID);
      expect(statSync(agentHome(fx, k)).mode & 0o777).toBe(0o700);
      expect(statSync(path.join(agentHome(fx, k), '.ssh')).mode & 0o777).toBe(0o700);
      expect(statSync(agentHome(fx, k)).uid).toBe(AGENT_UID);
    }
    expect(existsSync(agentHome(fx, 1))).toBe(true);
    expect((await git(fx.primary, ['config', '--get', 'gc.auto'])).trim()).toBe('0');
    // No agent is a worktree of the shared repo any more: a prune anywhere touches no agent.
    expect((await git(fx.primary, ['worktree', 'list', '--porcelain'])).split('\n').filter((l) => l.startsWith('worktree '))).toEqual([
      `worktree ${fx.primary}`,
    ]);
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
    await agentGit(agentCopy(fx, 2), ['commit', '-q', '--allow-empty', '-m', 'agent 2 work']);
    const agent2Head = (await agentGit(agentCopy(fx, 2), ['rev-parse', 'HEAD'])).trim();
    const result = await devkit(['worktrees', 'init', '4', '--json'], { cwd: fx.workspace });
    expect(result.exitCode).toBe(0);
    const parsed = JSON.parse(result.stdout) as { agents: Array<{ index: number; action: string }> };
    expect(parsed.agents.map((a) => [a.index, a.action])).toEqual([
      [1, 'present'],
      [2, 'present'],
      [3, 'created'],
      [4, 'created'],
    ]);
    expect((await agentGit(agentCopy(fx, 2), ['rev-parse', 'HEAD'])).trim()).toBe(agent2Head);
  });

  it('starts new branches from --base and tracks it when it is a branch', async () => {
    const first = (await git(fx.primary, ['rev-parse', 'HEAD~1'])).trim();
    await git(fx.primary, ['branch', 'release', first]);
    const result = await devkit(['worktrees', 'init', '2', '--base', 'release'], { cwd: fx.workspace });
    expect(result.exitCode).toBe(0);
    expect((await agentGit(agentCopy(fx, 2), ['rev-parse', 'HEAD'])).trim()).toBe(first);
    expect((await agentGit(agentCopy(fx, 2), ['rev-parse', '--abbrev-ref', '@{upstream}'])).trim()).toBe('origin/release');
    expect((await git(fx.primary, ['rev-parse', '--abbrev-ref', 'agent2/main@{upstream}'])).trim()).toBe('release');
  });

  it('refuses a folder at an agent path that devkit did not make, before changing anything', async () => {
    await devkit(['worktrees', 'init', '2'], { cwd: fx.workspace });
    const stranger = path.join(fx.root, 'agent3', fx.repo);
    await git(fx.root, ['init', '-q', stranger]);
    const before = snapshot(fx.root);
    const result = await devkit(['worktrees', 'init', '3'], { cwd: fx.workspace });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/agent3\/app exists but is not an agent copy devkit made/);
    expect(snapshot(fx.root)).toEqual(before);
  });
});
