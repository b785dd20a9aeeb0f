import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentCopy, devkit, makeDevRoot, type DevRootFixture } from './support/sandbox.js';

describe("git's own lock files held by someone else", () => {
  let fx: DevRootFixture;
  let configLock: string;
  beforeEach(async () => {
    fx = await makeDevRoot();
    configLock = path.join(fx.primary, '.git', 'config.lock');
  });
  afterEach(() => fx.cleanup());

  it('waits for a config.lock that is released, then succeeds', async () => {
    writeFileSync(configLock, '');
    setTimeout(() => rmSync(configLock), 700);
    const result = await devkit(['worktrees', 'init', '3'], { cwd: fx.workspace, env: { DEVKIT_GIT_LOCK_WAIT_MS: '20000' } });
    expect(result.exitCode).toBe(0);
    expect(existsSync(agentCopy(fx, 3))).toBe(true);
  });

  it('gives up after the bounded wait with one line naming the lock', async () => {
    writeFileSync(configLock, '');
    const result = await devkit(['worktrees', 'init', '3'], { cwd: fx.workspace, env: { DEVKIT_GIT_LOCK_WAIT_MS: '800' } });
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^devkit: git lock ${configLock} is still held after 1 s: another git process .* worktrees prune --apply`)),
    ]);
    expect(existsSync(agentCopy(fx, 2))).toBe(false);
  });
});
