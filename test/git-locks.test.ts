import { execa } from 'execa';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEVKIT_BIN, agentCopy, devkit, makeDevRoot, type DevRootFixture } from './support/sandbox.js';

describe("git's own lock files held by someone else", () => {
  let fx: DevRootFixture;
  let configLock: string;
  beforeEach(async () => {
    fx = await makeDevRoot();
    configLock = path.join(fx.primary, '.git', 'config.lock');
  });
  afterEach(() => fx.cleanup());

  it('retries while a config.lock is held, and succeeds once it is released', async () => {
    writeFileSync(configLock, '');
    // DEVKIT_DEBUG logs every git devkit runs: the lock goes once devkit has been refused by it at least twice.
    const child = execa(DEVKIT_BIN, ['worktrees', 'init', '3'], {
      cwd: fx.workspace,
      env: { DEVKIT_GIT_LOCK_WAIT_MS: '60000', DEVKIT_DEBUG: '1' },
      reject: false,
    });
    let refused = 0;
    child.stderr?.on('data', (chunk: Buffer) => {
      refused += (chunk.toString().match(/config gc\.auto 0 .* -> 255/g) ?? []).length;
      if (refused >= 2 && existsSync(configLock)) rmSync(configLock);
    });
    const result = await child;
    expect(refused).toBeGreaterThanOrEqual(2);
    expect(result.exitCode).toBe(0);
    expect(existsSync(agentCopy(fx, 3))).toBe(true);
  });

  it('gives up after the bounded wait with one line naming the lock', async () => {
    writeFileSync(configLock, '');
    const started = Date.now();
    const result = await devkit(['worktrees', 'init', '3'], { cwd: fx.workspace, env: { DEVKIT_GIT_LOCK_WAIT_MS: '800' } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        new RegExp(`^devkit: git lock ${configLock} is still held after 1 s: another git process .* worktrees prune --apply`),
      ),
    ]);
    expect(existsSync(agentCopy(fx, 2))).toBe(false);
  });
});
