import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { agentCopy, devkit, useDevRoot, type DevRootFixture } from './support/sandbox.js';

describe('worktrees session and notice', () => {
  const devRoot = useDevRoot({ agents: 3, perSuite: true });
  let fx: DevRootFixture;
  beforeEach(() => {
    fx = devRoot();
  });

  it("session, run anywhere inside agent 3's copy, names it and the primary clone", async () => {
    const sub = path.join(agentCopy(fx, 3), 'src');
    const result = await devkit(['worktrees', 'session', '--json'], { cwd: sub });
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      name: 'agent3',
      index: 3,
      path: agentCopy(fx, 3),
      branch: 'agent3/main',
      original_cwd: fx.primary,
      original_branch: 'main',
    });
  });

  it('session in the primary clone is agent 1', async () => {
    const result = await devkit(['worktrees', 'session'], { cwd: fx.primary });
    expect(result.stdout).toContain('name: agent1\n');
    expect(result.stdout).toContain(`original_cwd: ${fx.primary}\n`);
  });

  it('notice tells a forked agent how the parent paths map onto its own copy', async () => {
    mkdirSync(path.join(agentCopy(fx, 2), 'src'), { recursive: true });
    const result = await devkit(['worktrees', 'notice', '--from', path.join(fx.primary, 'src')], { cwd: agentCopy(fx, 2) });
    expect(result.exitCode).toBe(0);
    const text = result.stdout.replace(/\s+/g, ' ');
    expect(text).toContain(`${agentCopy(fx, 2)}/src (branch agent2/main)`);
    expect(text).toContain(`forked from: ${fx.primary}/src (branch main)`);
    expect(text).toContain(`${fx.primary}/src/<path> is ${agentCopy(fx, 2)}/src/<path>`);
    expect(text).toContain('Files may have changed since');
    expect(text).toContain('Your changes stay in your own copy');
  });

  it('notice refuses a parent that is not a copy of this repo', async () => {
    const result = await devkit(['worktrees', 'notice', '--from', fx.root], { cwd: agentCopy(fx, 2) });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/--from .* is not a working copy of this repo/);
  });
});
