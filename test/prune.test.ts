import { execa } from 'execa';
import { existsSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { agentCopy, agentHome, devkit, git, useDevRoot, snapshot, worktreeRecords, type DevRootFixture } from './support/sandbox.js';

interface Finding {
  kind: string;
  index: number | null;
  path: string;
  applied: boolean;
}

async function prune(fx: DevRootFixture, apply: boolean): Promise<Finding[]> {
  const result = await devkit(['worktrees', 'prune', '--json', ...(apply ? ['--apply'] : [])], { cwd: fx.workspace });
  expect(result.exitCode).toBe(0);
  return (JSON.parse(result.stdout) as { findings: Finding[] }).findings;
}

/** The admin folder git keeps for a worktree, found by its gitdir back-link. */
function adminDir(fx: DevRootFixture, copy: string): string {
  const base = path.join(fx.primary, '.git', 'worktrees');
  const id = readdirSync(base).find((name) => readFileSync(path.join(base, name, 'gitdir'), 'utf8').trim() === `${copy}/.git`);
  if (id === undefined) throw new Error(`no admin folder for ${copy}`);
  return path.join(base, id);
}

function makeOld(file: string): void {
  const minuteAgo = new Date(Date.now() - 60_000);
  utimesSync(file, minuteAgo, minuteAgo);
}

describe('devkit worktrees prune', () => {
  const devRoot = useDevRoot({ agents: 4 });
  let fx: DevRootFixture;
  beforeEach(() => {
    fx = devRoot();
  });

  it('finds nothing in a healthy dev root', async () => {
    expect(await prune(fx, false)).toEqual([]);
  });

  it('reports without --apply and changes nothing', async () => {
    rmSync(agentCopy(fx, 2), { recursive: true });
    const before = snapshot(fx.root);
    const findings = await prune(fx, false);
    expect(findings.map((f) => [f.kind, f.index, f.applied])).toEqual([['copy-missing', 2, false]]);
    expect(snapshot(fx.root)).toEqual(before);
  });

  it('drops the entry of a copy whose folder was deleted by hand, keeping its branch and commits', async () => {
    await git(agentCopy(fx, 2), ['commit', '-q', '--allow-empty', '-m', 'agent 2 commit']);
    const head = (await git(agentCopy(fx, 2), ['rev-parse', 'HEAD'])).trim();
    rmSync(agentCopy(fx, 2), { recursive: true });
    const findings = await prune(fx, true);
    expect(findings.map((f) => [f.kind, f.index, f.applied])).toEqual([['copy-missing', 2, true]]);
    expect((await worktreeRecords(fx.primary)).map((r) => r.path)).not.toContain(agentCopy(fx, 2));
    expect((await git(fx.primary, ['rev-parse', 'agent2/main'])).trim()).toBe(head);
  });

  it('registers again a copy whose admin entry was pruned, leaving its files as they were', async () => {
    const copy = agentCopy(fx, 3);
    writeFileSync(path.join(copy, 'README'), 'changed by agent 3\n');
    writeFileSync(path.join(copy, 'untracked.txt'), 'new\n');
    rmSync(adminDir(fx, copy), { recursive: true });
    await expect(git(copy, ['status'])).rejects.toThrow(/not a git repository/);

    const findings = await prune(fx, true);
    expect(findings.map((f) => [f.kind, f.index, f.applied])).toEqual([['copy-unregistered', 3, true]]);
    expect(readFileSync(path.join(copy, 'README'), 'utf8')).toBe('changed by agent 3\n');
    expect((await git(copy, ['status', '--porcelain'])).split('\n').sort()).toEqual([' M README', '?? untracked.txt']);
    expect((await git(copy, ['rev-parse', '--abbrev-ref', 'HEAD'])).trim()).toBe('agent3/main');
    expect((await worktreeRecords(fx.primary)).find((r) => r.path === copy)?.locked).toBe(true);
    expect(readdirSync(path.dirname(copy)).sort()).toEqual(['.devhome-agent3', 'app']);
  });

  it('deletes a stale index.lock whose owner is gone, and keeps one a live git process may own', async () => {
    const staleLock = path.join(adminDir(fx, agentCopy(fx, 2)), 'index.lock');
    const busyLock = path.join(adminDir(fx, agentCopy(fx, 4)), 'index.lock');
    for (const lock of [staleLock, busyLock]) {
      writeFileSync(lock, '');
      makeOld(lock);
    }
    // A git process working in agent 4's copy, blocked reading stdin.
    const owner = execa('git', ['hash-object', '--stdin'], { cwd: agentCopy(fx, 4), stdin: 'pipe', reject: false });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const findings = await prune(fx, true);
      expect(findings.map((f) => [f.kind, f.path, f.applied])).toEqual([
        ['stale-lock', staleLock, true],
        ['busy-lock', busyLock, false],
      ]);
      expect(existsSync(staleLock)).toBe(false);
      expect(existsSync(busyLock)).toBe(true);
    } finally {
      owner.kill();
      await owner;
    }
  });

  it("leaves a removed agent's HOME alone", async () => {
    expect((await devkit(['worktrees', 'remove', '4'], { cwd: fx.workspace })).exitCode).toBe(0);
    const findings = await prune(fx, true);
    expect(findings.map((f) => [f.kind, f.index, f.applied])).toEqual([['devhome-parked', 4, false]]);
    expect(existsSync(agentHome(fx, 4))).toBe(true);
  });
});
