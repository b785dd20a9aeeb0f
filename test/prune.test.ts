import { execa } from 'execa';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, utimesSync } from 'node:fs';
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
  rootStateOf,
  snapshot,
  useDevRoot,
  writeAsAgent,
  type DevRootFixture,
} from './support/sandbox.js';

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

function makeOld(file: string): void {
  const minuteAgo = new Date(Date.now() - 60_000);
  utimesSync(file, minuteAgo, minuteAgo);
}

/** Waits until some git process has its working directory in `dir` (found the way devkit finds lock owners). */
async function gitWorkingIn(dir: string): Promise<void> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      try {
        if (readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('git') && realpathSync(`/proc/${pid}/cwd`) === dir) return;
      } catch {
        // gone meanwhile
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`no git process started in ${dir}`);
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

  it('forgets a copy whose folder was deleted by hand, keeping its branch and what was synced', async () => {
    await agentGit(agentCopy(fx, 2), ['commit', '-q', '--allow-empty', '-m', 'agent 2 commit']);
    const head = (await agentGit(agentCopy(fx, 2), ['rev-parse', 'HEAD'])).trim();
    expect((await devkit(['sync', '2'], { cwd: fx.workspace })).exitCode).toBe(0);
    rmSync(agentCopy(fx, 2), { recursive: true });
    const findings = await prune(fx, true);
    expect(findings.map((f) => [f.kind, f.index, f.applied])).toEqual([['copy-missing', 2, true]]);
    expect(agentRecords(fx)).toEqual([3, 4]);
    expect((await git(fx.primary, ['rev-parse', 'agent2/main'])).trim()).toBe(head);
  });

  it('registers again a copy whose record was lost, leaving its files as they were', async () => {
    const copy = agentCopy(fx, 3);
    writeAsAgent(path.join(copy, 'README'), 'changed by agent 3\n');
    writeAsAgent(path.join(copy, 'untracked.txt'), 'new\n');
    rmSync(path.join(rootStateOf(fx), 'agents', 'agent3.json'));
    expect((await prune(fx, false)).map((f) => [f.kind, f.index])).toEqual([['copy-unregistered', 3]]);
    const findings = await prune(fx, true);
    expect(findings.map((f) => [f.kind, f.index, f.applied])).toEqual([['copy-unregistered', 3, true]]);
    expect(agentRecords(fx)).toEqual([2, 3, 4]);
    expect(readFileSync(path.join(copy, 'README'), 'utf8')).toBe('changed by agent 3\n');
    expect((await agentGit(copy, ['status', '--porcelain'])).split('\n').sort()).toEqual([' M README', '?? untracked.txt']);
  });

  it('deletes a copy a killed init left half made, which holds no work', async () => {
    const staging = path.join(fx.root, 'agent3', '.devkit-new-0123456789ab');
    mkdirSync(path.join(staging, '.git'), { recursive: true });
    const findings = await prune(fx, true);
    expect(findings.map((f) => [f.kind, f.index, f.applied])).toEqual([['staging-leftover', 3, true]]);
    expect(existsSync(staging)).toBe(false);
    expect(existsSync(agentCopy(fx, 3))).toBe(true);
  });

  it('deletes a stale index.lock whose owner is gone, and keeps one a live git process may own', async () => {
    const staleLock = path.join(agentCopy(fx, 2), '.git', 'index.lock');
    const busyLock = path.join(agentCopy(fx, 4), '.git', 'index.lock');
    for (const lock of [staleLock, busyLock]) {
      writeAsAgent(lock, '');
      makeOld(lock);
    }
    // A git process working in agent 4's copy, blocked reading stdin.
    const owner = execa('setpriv', [`--reuid=${AGENT_UID}`, `--regid=${AGENT_UID}`, '--clear-groups', 'git', 'hash-object', '--stdin'], {
      cwd: agentCopy(fx, 4),
      stdin: 'pipe',
      reject: false,
    });
    try {
      await gitWorkingIn(agentCopy(fx, 4));
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
