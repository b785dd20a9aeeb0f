import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { agentCopy, agentHome, devkit, git, useDevRoot, snapshot, tempDir, worktreeRecords, type DevRootFixture } from './support/sandbox.js';

describe('devkit worktrees remove', () => {
  const devRoot = useDevRoot({ agents: 3 });
  let fx: DevRootFixture;
  beforeEach(() => {
    fx = devRoot();
  });

  /** Agent 3 gets a modified file, an untracked file (in a new folder) and an unpushed commit. */
  async function makeWork(): Promise<string> {
    const copy = agentCopy(fx, 3);
    writeFileSync(path.join(copy, 'committed.txt'), 'unpushed work\n');
    await git(copy, ['add', 'committed.txt']);
    await git(copy, ['commit', '-qm', 'unpushed commit']);
    writeFileSync(path.join(copy, 'src', 'file1.txt'), 'modified by agent 3\n');
    mkdirSync(path.join(copy, 'notes'));
    writeFileSync(path.join(copy, 'notes', 'untracked.txt'), 'untracked by agent 3\n');
    return (await git(copy, ['rev-parse', 'HEAD'])).trim();
  }

  it('refuses a copy holding a modified file, an untracked file and an unpushed commit, and changes nothing', async () => {
    await makeWork();
    const before = snapshot(fx.root);
    const result = await devkit(['worktrees', 'remove', '3'], { cwd: fx.workspace });
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/1 modified file, 1 untracked file, 1 commit on no other branch.*--force/);
    expect(snapshot(fx.root)).toEqual(before);
  });

  it.each([
    ['a modified file', async (copy: string) => writeFileSync(path.join(copy, 'README'), 'changed\n')],
    ['an untracked file', async (copy: string) => writeFileSync(path.join(copy, 'new.txt'), 'new\n')],
    ['an unpushed commit', async (copy: string) => void (await git(copy, ['commit', '-q', '--allow-empty', '-m', 'x']))],
  ])('refuses a copy holding only %s', async (_what, change) => {
    await change(agentCopy(fx, 3));
    expect((await devkit(['worktrees', 'remove', '3'], { cwd: fx.workspace })).exitCode).toBe(1);
    expect(existsSync(agentCopy(fx, 3))).toBe(true);
  });

  it('--force saves all three under the printed ref, from which they are recovered', async () => {
    const head = await makeWork();
    const result = await devkit(['worktrees', 'remove', '3', '--force'], { cwd: fx.workspace });
    expect(result.exitCode).toBe(0);
    const ref = /saved agent3's work to (refs\/devkit\/backup\/agent3\/\S+)/.exec(result.stdout)?.[1];
    expect(ref).toBeDefined();
    expect(result.stderr).toContain(`restore with: git -C ${fx.primary} worktree add`);
    expect(existsSync(agentCopy(fx, 3))).toBe(false);
    expect((await worktreeRecords(fx.primary)).map((w) => w.path)).not.toContain(agentCopy(fx, 3));

    // Recover it the way the message says, into a fresh folder.
    const restored = path.join(tempDir('restore'), 'copy');
    await git(fx.primary, ['worktree', 'add', '-q', restored, ref as string]);
    expect(readFileSync(path.join(restored, 'src', 'file1.txt'), 'utf8')).toBe('modified by agent 3\n');
    expect(readFileSync(path.join(restored, 'notes', 'untracked.txt'), 'utf8')).toBe('untracked by agent 3\n');
    expect(readFileSync(path.join(restored, 'committed.txt'), 'utf8')).toBe('unpushed work\n');
    const parents = (await git(fx.primary, ['rev-parse', `${ref}^@`])).trim().split('\n');
    expect(parents).toContain(head);
    expect((await git(fx.primary, ['log', '--format=%s', '-1', head])).trim()).toBe('unpushed commit');
    // The agent's branch and HOME are kept.
    expect((await git(fx.primary, ['rev-parse', 'refs/heads/agent3/main'])).trim()).toBe(head);
    expect(existsSync(agentHome(fx, 3))).toBe(true);
  });

  it.each([
    ['info/exclude as devkit wrote it', false],
    ['info/exclude emptied by hand', true],
  ])("--force never puts an agent's HOME (its keys) into the backup, with %s", async (_how, emptyExclude) => {
    const copy = agentCopy(fx, 3);
    // In agent 3's container its HOME is mounted at .devhome inside the copy.
    mkdirSync(path.join(copy, '.devhome', '.ssh'), { recursive: true });
    writeFileSync(path.join(copy, '.devhome', '.ssh', 'id_ed25519'), 'PRIVATE KEY\n');
    writeFileSync(path.join(copy, 'work.txt'), 'work\n');
    if (emptyExclude) writeFileSync(path.join(fx.primary, '.git', 'info', 'exclude'), '');
    const result = await devkit(['worktrees', 'remove', '3', '--force', '--json'], { cwd: fx.workspace });
    expect(result).toMatchObject({ exitCode: 0, stderr: expect.not.stringContaining('devkit:') });
    const { backup } = JSON.parse(result.stdout) as { backup: { ref: string } };
    const files = (await git(fx.primary, ['ls-tree', '-r', '--name-only', backup.ref])).split('\n');
    expect(files).toContain('work.txt');
    expect(files.filter((file) => file.includes('devhome') || file.includes('id_ed25519'))).toEqual([]);
  });

  it('removes a clean copy without --force and without a backup, keeping its branch', async () => {
    const result = await devkit(['worktrees', 'remove', '2', '--json'], { cwd: fx.workspace });
    expect(result.exitCode).toBe(0);
    const parsed = JSON.parse(result.stdout) as { backup: unknown; branchDeleted: boolean };
    expect(parsed.backup).toBeNull();
    expect(parsed.branchDeleted).toBe(false);
    expect(existsSync(agentCopy(fx, 2))).toBe(false);
    expect((await git(fx.primary, ['for-each-ref', 'refs/devkit'])).trim()).toBe('');
    // Made again, agent 2 comes back on its old branch with its old HOME.
    writeFileSync(path.join(agentHome(fx, 2), 'kept'), 'x');
    expect((await devkit(['worktrees', 'init', '2'], { cwd: fx.workspace })).exitCode).toBe(0);
    expect(existsSync(path.join(agentHome(fx, 2), 'kept'))).toBe(true);
  });

  it('--delete-branch deletes only a merged branch, and refuses an unmerged one before changing anything', async () => {
    expect((await devkit(['worktrees', 'remove', '2', '--delete-branch'], { cwd: fx.workspace })).exitCode).toBe(0);
    expect((await git(fx.primary, ['branch', '--list', 'agent2/main'])).trim()).toBe('');

    await git(agentCopy(fx, 3), ['commit', '-q', '--allow-empty', '-m', 'unmerged']);
    const before = snapshot(fx.root);
    const refused = await devkit(['worktrees', 'remove', '3', '--force', '--delete-branch'], { cwd: fx.workspace });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/agent3\/main has commits on no other branch/);
    expect(snapshot(fx.root)).toEqual(before);
  });

  it('never deletes a folder at an agent path that git does not list as a worktree', async () => {
    await devkit(['worktrees', 'remove', '3'], { cwd: fx.workspace });
    mkdirSync(agentCopy(fx, 3));
    writeFileSync(path.join(agentCopy(fx, 3), 'precious.txt'), 'not a worktree\n');
    const result = await devkit(['worktrees', 'remove', '3', '--force'], { cwd: fx.workspace });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/is not a registered worktree.*will not delete it/);
    expect(readFileSync(path.join(agentCopy(fx, 3), 'precious.txt'), 'utf8')).toBe('not a worktree\n');
  });
});
