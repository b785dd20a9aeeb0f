import { execa } from 'execa';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentCopy, devkit, makeDevRoot, rootStateOf, type DevRootFixture } from './support/sandbox.js';

describe("devkit's own lock on a dev root", () => {
  let fx: DevRootFixture;
  let lockFile: string;
  beforeEach(async () => {
    fx = await makeDevRoot();
    expect((await devkit(['worktrees', 'list'], { cwd: fx.workspace })).exitCode).toBe(0);
    lockFile = path.join(rootStateOf(fx), 'lock');
  });
  afterEach(() => fx.cleanup());

  function holder(pid: number, host = os.hostname()): string {
    return JSON.stringify({ pid, start: null, host, command: 'worktrees init 9', since: '2026-01-01T00:00:00.000Z' });
  }

  it('lives in devkit state folder, out of every container reach, not in the shared .git', async () => {
    expect(lockFile.startsWith(path.join(process.env.DEVKIT_STATE_DIR ?? '/nonexistent', 'roots'))).toBe(true);
    expect(existsSync(path.join(fx.primary, '.git', 'devkit.lock'))).toBe(false);
  });

  it('breaks a lock whose owner died (kill -9) and goes on', async () => {
    const dead = execa('sleep', ['30']);
    const pid = dead.pid as number;
    dead.kill('SIGKILL');
    await dead.catch(() => undefined);
    writeFileSync(lockFile, holder(pid));
    const result = await devkit(['worktrees', 'init', '2'], { cwd: fx.workspace });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain(`breaking a stale lock left by pid ${pid}`);
    expect(existsSync(agentCopy(fx, 2))).toBe(true);
  });

  it('waits for a live owner, and fails cleanly naming it when it does not finish in time', async () => {
    const alive = execa('sleep', ['30']);
    try {
      writeFileSync(lockFile, holder(alive.pid as number));
      const started = Date.now();
      const result = await devkit(['worktrees', 'init', '2'], { cwd: fx.workspace, env: { DEVKIT_LOCK_WAIT_MS: '500' } });
      expect(Date.now() - started).toBeGreaterThanOrEqual(500);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`another devkit is working on this dev root: pid ${alive.pid} \\(devkit worktrees init 9`));
      expect(result.stderr).not.toMatch(/breaking/);
      expect(existsSync(agentCopy(fx, 2))).toBe(false);
    } finally {
      alive.kill('SIGKILL');
      await alive.catch(() => undefined);
    }
    expect((await devkit(['worktrees', 'init', '2'], { cwd: fx.workspace })).exitCode).toBe(0);
    expect(existsSync(agentCopy(fx, 2))).toBe(true);
  });
});
