import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentCopy, devkit, makeDevRoot, type DevRootFixture } from './support/sandbox.js';

describe("devkit's own repo lock", () => {
  let fx: DevRootFixture;
  let lockFile: string;
  beforeEach(async () => {
    fx = await makeDevRoot();
    lockFile = path.join(fx.primary, '.git', 'devkit.lock');
  });
  afterEach(() => fx.cleanup());

  function holder(pid: number): string {
    return JSON.stringify({ pid, start: null, host: os.hostname(), command: 'worktrees init 9', since: '2026-01-01T00:00:00.000Z' });
  }

  it('breaks a lock whose owner died (kill -9) and goes on', async () => {
    const dead = execa('sleep', ['30']);
    const pid = dead.pid as number;
    dead.kill('SIGKILL');
    await dead.catch(() => undefined);
    writeFileSync(lockFile, holder(pid));
    const result = await devkit(['worktrees', 'init', '2'], { cwd: fx.workspace });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain(`breaking a stale lock left by pid ${pid}`);
  });

  it('waits for a live owner, and fails cleanly naming it when it does not finish in time', async () => {
    const alive = execa('sleep', ['30']);
    try {
      writeFileSync(lockFile, holder(alive.pid as number));
      const result = await devkit(['worktrees', 'init', '2'], { cwd: fx.workspace, env: { DEVKIT_LOCK_WAIT_MS: '500' } });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`another devkit is working on this repo: pid ${alive.pid} \\(devkit worktrees init 9`));
      expect(result.stderr).not.toMatch(/breaking/);
    } finally {
      alive.kill('SIGKILL');
      await alive.catch(() => undefined);
    }
    expect((await devkit(['worktrees', 'init', '2'], { cwd: fx.workspace })).exitCode).toBe(0);
    expect(agentCopy(fx, 2)).toBeTruthy();
  });
});
