import { execa } from 'execa';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { projectPrefix } from '../src/stack/project-names.js';
import {
  AGENT_UID,
  agentCopy,
  agentGit,
  agentHome,
  agentRecords,
  backupsRepo,
  devkit,
  git,
  makeDevRoot,
  rootStateOf,
  type DevRootFixture,
} from './support/sandbox.js';

/**
 * A dev root as devkit 0.1.0 left it: agents as locked worktrees of the shared
 * repo, and devkit's lock, team records, subnet reservations and backups in
 * the shared .git. The first command of this devkit moves all of it, with
 * nothing lost, and says what moved.
 */
describe('moving a dev root made by devkit 0.1.0', () => {
  let fx: DevRootFixture;
  beforeEach(async () => {
    fx = await makeDevRoot();
    const shared = path.join(fx.primary, '.git');
    for (const k of [2, 3]) {
      await git(fx.primary, [
        'worktree',
        'add',
        '-q',
        '--lock',
        '--reason',
        `devkit: agent${k}`,
        '--track',
        '-b',
        `agent${k}/main`,
        agentCopy(fx, k),
        'main',
      ]);
      mkdirSync(path.join(fx.root, `agent${k}`, `.devhome-agent${k}`, '.ssh'), { recursive: true, mode: 0o700 });
    }
    // Work in agent 2's worktree: a commit on its branch, a staged file, a modified file, an untracked one.
    await git(agentCopy(fx, 2), ['commit', '-q', '--allow-empty', '-m', 'agent 2 commit']);
    writeFileSync(path.join(agentCopy(fx, 2), 'staged.txt'), 'staged\n');
    await git(agentCopy(fx, 2), ['add', 'staged.txt']);
    writeFileSync(path.join(agentCopy(fx, 2), 'README'), 'modified by agent 2\n');
    writeFileSync(path.join(agentCopy(fx, 2), 'untracked.txt'), 'untracked\n');
    // devkit 0.1.0's own files, in the shared .git.
    const prefix = projectPrefix({ root: fx.root, repo: fx.repo });
    mkdirSync(path.join(shared, 'devkit-teams'));
    const member = { index: 3, agent: 'agent3', worktree: agentCopy(fx, 3), project: `${prefix}-agent3`, containers: [], state: 'created' };
    writeFileSync(
      path.join(shared, 'devkit-teams', 't1.json'),
      JSON.stringify({ name: 't1', session: 's1', createdAt: 'then', members: [member] }),
    );
    writeFileSync(
      path.join(shared, 'devkit-teams', 'forged.json'),
      JSON.stringify({ name: 'forged', session: 's1', createdAt: 'then', members: [{ ...member, worktree: '/tmp' }] }),
    );
    writeFileSync(path.join(shared, 'devkit-subnets.json'), JSON.stringify({ [`${prefix}-agent2`]: '10.213.7.16/28' }));
    const head = (await git(fx.primary, ['rev-parse', 'HEAD'])).trim();
    await git(fx.primary, ['update-ref', 'refs/devkit/backup/agent4/20260101T000000.000Z', head]);
    writeFileSync(
      path.join(shared, 'devkit.lock'),
      JSON.stringify({ pid: 999999, start: null, host: 'x', command: 'worktrees init 3', since: 'then' }),
    );
  });
  afterEach(() => fx.cleanup());

  it('moves records and backups out of the shared .git, turns each worktree into a copy of its own, loses nothing, and says what moved', async () => {
    const result = await devkit(['worktrees', 'list', '--json'], { cwd: fx.workspace });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(
      /moved what devkit 0\.1\.0 kept where agents could write it: 1 team record\(s\) to .*teams; 1 subnet reservation\(s\) to .*subnets\.json; 1 backup\(s\) to .*backups\.git; agents 2, 3 from worktrees of the shared repo to copies of their own/,
    );
    expect(result.stderr).toMatch(/left in place: .*devkit-teams\/forged\.json \(team record .* does not match devkit's layout/);
    const shared = path.join(fx.primary, '.git');
    // Nothing of devkit's own is left where agents could write, but the record devkit refused (for a person to look at).
    expect(existsSync(path.join(shared, 'devkit.lock'))).toBe(false);
    expect(existsSync(path.join(shared, 'devkit-subnets.json'))).toBe(false);
    expect(existsSync(path.join(shared, 'devkit-teams', 't1.json'))).toBe(false);
    expect(existsSync(path.join(shared, 'worktrees'))).toBe(false);
    expect((await git(fx.primary, ['for-each-ref', 'refs/devkit'])).trim()).toBe('');
    expect((await git(fx.primary, ['--git-dir', backupsRepo(fx), 'for-each-ref', '--format=%(refname)'])).trim()).toBe(
      'refs/devkit/backup/agent4/20260101T000000.000Z',
    );
    expect(JSON.parse(readFileSync(path.join(rootStateOf(fx), 'teams', 't1.json'), 'utf8'))).toMatchObject({
      name: 't1',
      members: [{ agent: 'agent3' }],
    });
    expect(JSON.parse(readFileSync(path.join(rootStateOf(fx), 'subnets.json'), 'utf8'))).toEqual({
      [`${projectPrefix({ root: fx.root, repo: fx.repo })}-agent2`]: '10.213.7.16/28',
    });
    // Agent 2's work, every bit of it, in a copy of its own on the same branch.
    expect(agentRecords(fx)).toEqual([2, 3]);
    const copy = agentCopy(fx, 2);
    expect(statSync(path.join(copy, '.git')).isDirectory()).toBe(true);
    expect((await agentGit(copy, ['status', '--porcelain'])).split('\n').sort()).toEqual(
      ['A  staged.txt', ' M README', '?? untracked.txt'].sort(),
    );
    expect((await agentGit(copy, ['log', '-1', '--format=%s'])).trim()).toBe('agent 2 commit');
    expect((await agentGit(copy, ['rev-parse', '--abbrev-ref', 'HEAD'])).trim()).toBe('agent2/main');
    expect(statSync(path.join(copy, 'README')).uid).toBe(AGENT_UID);
    const listed = (JSON.parse(result.stdout) as { agents: Array<{ index: number; condition: string; dirty: unknown }> }).agents;
    expect(listed.find((a) => a.index === 2)).toMatchObject({ condition: 'ok', dirty: { modified: 2, untracked: 1 } });
    expect(statSync(agentHome(fx, 2)).uid).toBe(AGENT_UID);
    // Said once: the next command finds nothing to move.
    expect((await devkit(['worktrees', 'list'], { cwd: fx.workspace })).stderr).not.toMatch(/moved/);
    expect((await execa('git', ['fsck', '--no-progress'], { cwd: fx.primary, reject: false })).exitCode).toBe(0);
  });
});
