import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import {
  agentCopy,
  agentGit,
  agentHome,
  agentRecords,
  backupsRepo,
  devkit,
  expectRefused,
  git,
  snapshot,
  useDevRoot,
  writeAsAgent,
  type DevRootFixture,
} from './support/sandbox.js';

describe('devkit worktrees remove', () => {
  const devRoot = useDevRoot({ agents: 3 });
  let fx: DevRootFixture;
  beforeEach(() => {
    fx = devRoot();
  });

  /** Agent 3 commits on a branch of its own outside agent3/, and leaves a modified file and an untracked one (in a new folder). */
  async function makeWork(): Promise<string> {
    const copy = agentCopy(fx, 3);
    await agentGit(copy, ['switch', '-q', '-c', 'scratch']);
    writeAsAgent(path.join(copy, 'committed.txt'), 'unpushed work\n');
    await agentGit(copy, ['add', 'committed.txt']);
    await agentGit(copy, ['commit', '-qm', 'unpushed commit']);
    writeAsAgent(path.join(copy, 'src', 'file1.txt'), 'modified by agent 3\n');
    writeAsAgent(path.join(copy, 'notes', 'untracked.txt'), 'untracked by agent 3\n');
    return (await agentGit(copy, ['rev-parse', 'HEAD'])).trim();
  }

  it('refuses a copy holding a modified file, an untracked file and a commit on no shared branch, and changes nothing', async () => {
    await makeWork();
    const before = snapshot(fx.root);
    expectRefused(
      await devkit(['worktrees', 'remove', '3'], { cwd: fx.workspace }),
      /1 modified file, 1 untracked file, 1 commit on no shared branch.*--force/,
      { exitCode: 1, unchanged: { dir: fx.root, before } },
    );
  });

  it.each([
    ['a modified file', async (copy: string) => writeAsAgent(path.join(copy, 'README'), 'changed\n'), /1 modified file/],
    ['an untracked file', async (copy: string) => writeAsAgent(path.join(copy, 'new.txt'), 'new\n'), /1 untracked file/],
    ['an ignored file', async (copy: string) => writeAsAgent(path.join(copy, 'target', 'build.out'), 'built\n'), /1 ignored file/],
    [
      'a stash entry',
      async (copy: string) => {
        writeAsAgent(path.join(copy, 'README'), 'stashed\n');
        await agentGit(copy, ['stash', '-q']);
      },
      /1 stash entry/,
    ],
    [
      'a commit on a detached HEAD',
      async (copy: string) => {
        await agentGit(copy, ['checkout', '-q', '--detach']);
        await agentGit(copy, ['commit', '-q', '--allow-empty', '-m', 'x']);
      },
      /1 commit on no shared branch/,
    ],
    [
      'a nested repository',
      async (copy: string) => {
        await agentGit(copy, ['init', '-q', 'sub']);
        await agentGit(path.join(copy, 'sub'), ['commit', '-q', '--allow-empty', '-m', 'nested']);
      },
      /1 nested repository/,
    ],
  ])('refuses a copy holding only %s', async (_what, change, said) => {
    await change(agentCopy(fx, 3));
    const result = await devkit(['worktrees', 'remove', '3'], { cwd: fx.workspace });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(said);
    expect(existsSync(agentCopy(fx, 3))).toBe(true);
  });

  it('a commit on the agent branch is not at risk: devkit brings it into the shared repo first, and the branch is kept', async () => {
    await agentGit(agentCopy(fx, 3), ['commit', '-q', '--allow-empty', '-m', 'on agent3/main']);
    const tip = (await agentGit(agentCopy(fx, 3), ['rev-parse', 'HEAD'])).trim();
    const result = await devkit(['worktrees', 'remove', '3', '--json'], { cwd: fx.workspace });
    expect(result.exitCode).toBe(0);
    expect((JSON.parse(result.stdout) as { backup: unknown }).backup).toBeNull();
    expect((await git(fx.primary, ['rev-parse', 'agent3/main'])).trim()).toBe(tip);
  });

  it("--force saves all of it to devkit's backups, from where the printed command brings it back", async () => {
    const head = await makeWork();
    const result = await devkit(['worktrees', 'remove', '3', '--force'], { cwd: fx.workspace });
    expect(result.exitCode).toBe(0);
    const ref = /saved agent3's work to (refs\/devkit\/backup\/agent3\/\S+) in (\S+)/.exec(result.stdout);
    expect(ref?.[2]).toBe(backupsRepo(fx));
    // devkit restore brings it back as agent 3's own copy (test/checkpoints.test.ts runs it); by hand, into a folder of its own.
    expect(result.stdout).toMatch(new RegExp(`^restore with: devkit restore 3 backup/${path.basename(ref?.[1] ?? '-')}$`, 'm'));
    const restore = /^or by hand, into a folder of its own: (.*)$/m.exec(result.stdout)?.[1] ?? '';
    expect(restore).toContain(`git -C ${fx.primary} fetch ${backupsRepo(fx)} ${ref?.[1]}`);
    expect(existsSync(agentCopy(fx, 3))).toBe(false);
    expect(agentRecords(fx)).toEqual([2]);
    // The backup is out of every agent's reach: not in the shared repo.
    expect((await git(fx.primary, ['for-each-ref', 'refs/devkit'])).trim()).toBe('');

    // Recover it with the printed command, into the folder it names (one of its own per backup).
    await execa('sh', ['-c', restore], {
      env: { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@l', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@l' },
    });
    const restored = `${path.dirname(agentCopy(fx, 3))}-restored-${path.basename(ref?.[1] ?? '')}`;
    expect(readFileSync(path.join(restored, 'src', 'file1.txt'), 'utf8')).toBe('modified by agent 3\n');
    expect(readFileSync(path.join(restored, 'notes', 'untracked.txt'), 'utf8')).toBe('untracked by agent 3\n');
    expect(readFileSync(path.join(restored, 'committed.txt'), 'utf8')).toBe('unpushed work\n');
    const parents = (await git(fx.primary, ['rev-parse', 'FETCH_HEAD^@'])).trim().split('\n');
    expect(parents).toContain(head);
    expect((await git(fx.primary, ['log', '--format=%s', '-1', head])).trim()).toBe('unpushed commit');
    // The agent's branch and HOME are kept.
    expect((await git(fx.primary, ['rev-parse', '--verify', 'refs/heads/agent3/main'])).trim()).toMatch(/^[0-9a-f]{40}$/);
    expect(existsSync(agentHome(fx, 3))).toBe(true);
  });

  it('--force saves ignored files, every stash entry and a nested repository with its history', async () => {
    const copy = agentCopy(fx, 3);
    writeAsAgent(path.join(copy, 'target', '.env'), 'SECRET=1\n');
    for (const text of ['first stash\n', 'second stash\n']) {
      writeAsAgent(path.join(copy, 'README'), text);
      await agentGit(copy, ['stash', '-q']);
    }
    await agentGit(copy, ['init', '-q', 'vendor/lib']);
    await agentGit(path.join(copy, 'vendor/lib'), ['commit', '-q', '--allow-empty', '-m', 'nested history']);
    const result = await devkit(['worktrees', 'remove', '3', '--force', '--json'], { cwd: fx.workspace });
    expect(result.exitCode).toBe(0);
    const { backup } = JSON.parse(result.stdout) as { backup: { ref: string } };
    const repo = backupsRepo(fx);
    const files = (await git(fx.primary, ['--git-dir', repo, 'ls-tree', '-r', '--name-only', backup.ref])).split('\n');
    expect(files).toContain('target/.env');
    expect(files).toContain('.devkit-backup/nested/vendor/lib.tar');
    const stashes = await git(fx.primary, ['--git-dir', repo, 'log', '--format=%s', backup.ref]);
    expect(stashes.match(/WIP on agent3\/main/g)).toHaveLength(2);
    // The nested repository's own history is in its tar.
    const tar = await git(fx.primary, ['--git-dir', repo, 'cat-file', 'blob', `${backup.ref}:.devkit-backup/nested/vendor/lib.tar`]);
    expect(tar).toContain('vendor/lib/.git/HEAD');
  });

  it("--force never puts an agent's HOME (its keys) into the backup, and saves files under names like a HOME's in the copy", async () => {
    const copy = agentCopy(fx, 3);
    // Agent 3's HOME is beside its copy (mounted at .devhome only inside its container).
    writeAsAgent(path.join(agentHome(fx, 3), '.ssh', 'id_ed25519'), 'PRIVATE KEY\n');
    // Files in the copy under HOME-like names are the copy's, whatever their name: work.
    writeAsAgent(path.join(copy, '.devhome', 'notes.txt'), 'notes\n');
    writeAsAgent(path.join(copy, '.devhome-agent3', 'work.txt'), 'work\n');
    writeAsAgent(path.join(copy, '.git', 'info', 'exclude'), '.devhome*\n');
    const result = await devkit(['worktrees', 'remove', '3', '--force', '--json'], { cwd: fx.workspace });
    expect(result).toMatchObject({ exitCode: 0, stderr: expect.not.stringContaining('devkit:') });
    const { backup } = JSON.parse(result.stdout) as { backup: { ref: string } };
    const files = (await git(fx.primary, ['--git-dir', backupsRepo(fx), 'ls-tree', '-r', '--name-only', backup.ref])).split('\n');
    expect(files).toEqual(expect.arrayContaining(['.devhome/notes.txt', '.devhome-agent3/work.txt']));
    expect(files.filter((file) => file.includes('id_ed25519'))).toEqual([]);
    expect(existsSync(path.join(agentHome(fx, 3), '.ssh', 'id_ed25519'))).toBe(true);
  });

  it('removes a clean copy without --force and without a backup, keeping its branch; its generated workspace files go', async () => {
    // What devkit generates for agent 2's stack in the workspace (up writes these): gone with the agent.
    const generated = ['overlays/agent2/compose.override.yml', '.devkit/policy/agent2/allow', '.devkit/users/agent2/passwd'];
    for (const file of generated) {
      mkdirSync(path.dirname(path.join(fx.workspace, file)), { recursive: true });
      writeFileSync(path.join(fx.workspace, file), 'generated\n');
    }
    const result = await devkit(['worktrees', 'remove', '2', '--json'], { cwd: fx.workspace });
    expect(result.exitCode).toBe(0);
    const parsed = JSON.parse(result.stdout) as { backup: unknown; branchDeleted: boolean };
    expect(parsed.backup).toBeNull();
    expect(parsed.branchDeleted).toBe(false);
    expect(existsSync(agentCopy(fx, 2))).toBe(false);
    expect(existsSync(backupsRepo(fx))).toBe(false);
    for (const dir of ['overlays/agent2', '.devkit/policy/agent2', '.devkit/users/agent2'])
      expect(existsSync(path.join(fx.workspace, dir))).toBe(false);
    // Made again, agent 2 comes back on its old branch with its old HOME.
    writeFileSync(path.join(agentHome(fx, 2), 'kept'), 'x');
    expect((await devkit(['worktrees', 'init', '2'], { cwd: fx.workspace })).exitCode).toBe(0);
    expect(existsSync(path.join(agentHome(fx, 2), 'kept'))).toBe(true);
  });

  it('--delete-branch deletes only a merged branch, and refuses an unmerged one before changing anything', async () => {
    expect((await devkit(['worktrees', 'remove', '2', '--delete-branch'], { cwd: fx.workspace })).exitCode).toBe(0);
    expect((await git(fx.primary, ['branch', '--list', 'agent2/main'])).trim()).toBe('');

    await agentGit(agentCopy(fx, 3), ['commit', '-q', '--allow-empty', '-m', 'unmerged']);
    expect((await devkit(['sync', '3'], { cwd: fx.workspace })).exitCode).toBe(0);
    const before = snapshot(fx.root);
    const refused = await devkit(['worktrees', 'remove', '3', '--force', '--delete-branch'], { cwd: fx.workspace });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/agent3\/main has commits on no other branch/);
    expect(snapshot(fx.root)).toEqual(before);
  });

  it('never deletes a folder at an agent path that devkit did not make', async () => {
    await devkit(['worktrees', 'remove', '3'], { cwd: fx.workspace });
    mkdirSync(agentCopy(fx, 3));
    writeFileSync(path.join(agentCopy(fx, 3), 'precious.txt'), 'not a copy devkit made\n');
    const result = await devkit(['worktrees', 'remove', '3', '--force'], { cwd: fx.workspace });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/is not an agent copy devkit made; devkit will not delete it/);
    expect(readFileSync(path.join(agentCopy(fx, 3), 'precious.txt'), 'utf8')).toBe('not a copy devkit made\n');
  });
});
