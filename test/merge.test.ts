import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { beforeEach, describe, expect, it } from 'vitest';
import { describeWithDocker } from './support/docker.js';
import {
  agentCopy,
  agentGit,
  devkit,
  expectRefused,
  git,
  snapshot,
  useDevRoot,
  writeAsAgent,
  type DevRootFixture,
  type RunResult,
} from './support/sandbox.js';

/** Who commits a merge: the host user (given here, as a fresh machine may have no global git identity). */
const HOST_USER = {
  GIT_AUTHOR_NAME: 'Host User',
  GIT_AUTHOR_EMAIL: 'host@localhost',
  GIT_COMMITTER_NAME: 'Host User',
  GIT_COMMITTER_EMAIL: 'host@localhost',
};

// Merging into a branch checked out in the primary clone asks the engine whether a container can write that clone.
describeWithDocker('devkit merge', () => {
  const devRoot = useDevRoot({ agents: 4 });
  let fx: DevRootFixture;
  beforeEach(() => {
    fx = devRoot();
  });

  const merge = (...args: string[]): Promise<RunResult> => devkit(['merge', ...args], { cwd: fx.workspace, env: HOST_USER });
  const main = async (): Promise<string> => (await git(fx.primary, ['rev-parse', 'main'])).trim();
  const primaryStatus = async (): Promise<string> => git(fx.primary, ['status', '--porcelain', '--untracked-files=all']);
  /** The refs of the shared repo and the primary clone's files (its .git's objects aside: a refused merge may leave unreachable ones). */
  const primaryState = async (): Promise<unknown> => ({
    refs: await git(fx.primary, ['for-each-ref', '--format=%(refname) %(objectname)']),
    head: readFileSync(path.join(fx.primary, '.git', 'HEAD'), 'utf8'),
    index: readFileSync(path.join(fx.primary, '.git', 'index')).toString('base64'),
    files: [...snapshot(fx.primary)].filter(([file]) => !file.startsWith('.git/') && file !== '.git'),
  });

  /** Agent K commits `content` to `file` in its copy (plain git as the agent, as its tools would). */
  async function agentCommits(k: number, file: string, content: string, message: string): Promise<string> {
    const copy = agentCopy(fx, k);
    writeAsAgent(path.join(copy, file), content);
    await agentGit(copy, ['add', file]);
    await agentGit(copy, ['commit', '-qm', message]);
    return (await agentGit(copy, ['rev-parse', 'HEAD'])).trim();
  }

  /** The host user commits on main in the primary clone. */
  async function hostCommits(file: string, content: string, message: string): Promise<void> {
    writeFileSync(path.join(fx.primary, file), content);
    await git(fx.primary, ['add', file]);
    await git(fx.primary, ['commit', '-qm', message]);
  }

  it('merges agents 4 and 2 into main in the primary clone, and refuses agent 3, whose change conflicts, changing nothing', async () => {
    await agentCommits(2, 'src/file1.txt', 'agent 2 was here\n', 'agent 2 edits file1');
    await agentCommits(3, 'src/file1.txt', 'agent 3 was here\n', 'agent 3 edits file1');
    await agentCommits(4, 'src/file2.txt', 'agent 4 was here\n', 'agent 4 edits file2');

    // Nothing was synced by hand: merge brings each agent's commits in first.
    const four = await merge('4');
    expect(four).toMatchObject({
      exitCode: 0,
      stdout: expect.stringMatching(/^merged agent4\/main into main \(fast-forward to [0-9a-f]{7}, 1 commit\)$/),
    });
    const two = await merge('2');
    expect(two).toMatchObject({
      exitCode: 0,
      stdout: expect.stringMatching(/^merged agent2\/main into main \(merge commit [0-9a-f]{7}, 1 commit\)$/),
    });

    // The work is on main, and the primary clone (main checked out) holds it, clean.
    expect(await git(fx.primary, ['show', 'main:src/file1.txt'])).toBe('agent 2 was here');
    expect(await git(fx.primary, ['show', 'main:src/file2.txt'])).toBe('agent 4 was here');
    expect(readFileSync(path.join(fx.primary, 'src', 'file1.txt'), 'utf8')).toBe('agent 2 was here\n');
    expect(readFileSync(path.join(fx.primary, 'src', 'file2.txt'), 'utf8')).toBe('agent 4 was here\n');
    expect(await primaryStatus()).toBe('');
    expect((await git(fx.primary, ['rev-list', '--parents', '-1', 'main'])).trim().split(' ')).toHaveLength(3);
    expect((await git(fx.primary, ['log', '-1', '--format=%s', 'main'])).trim()).toBe("Merge branch 'agent2/main' into main");

    // Agent 3's commit in the shared repo first: the refused merge's own sync then has nothing to bring.
    expect((await devkit(['sync', '3'], { cwd: fx.workspace })).exitCode).toBe(0);
    const before = await primaryState();
    const three = await merge('3');
    expectRefused(three, /agent3\/main conflicts with main in src\/file1\.txt: nothing was merged/, { exitCode: 1 });
    expect(await primaryState()).toEqual(before);
    expect(await primaryStatus()).toBe('');
  });

  it('refuses a primary clone with uncommitted changes when main is checked out there, naming them, and changes nothing', async () => {
    await agentCommits(2, 'src/file3.txt', 'agent 2\n', 'agent 2 edits file3');
    writeFileSync(path.join(fx.primary, 'README'), 'edited by the host user, not committed\n');
    expect((await devkit(['sync', '2'], { cwd: fx.workspace })).exitCode).toBe(0);
    const before = await primaryState();
    expectRefused(await merge('2'), /primary clone .* has main checked out and it has uncommitted changes \(README\): commit or stash/, {
      exitCode: 1,
    });
    expect(await primaryState()).toEqual(before);

    // An untracked file the merge would write over is named too.
    await git(fx.primary, ['checkout', '-q', 'README']);
    await agentCommits(2, 'notes.txt', "agent 2's notes\n", 'agent 2 adds notes');
    writeFileSync(path.join(fx.primary, 'notes.txt'), "the host user's own notes\n");
    expect((await devkit(['sync', '2'], { cwd: fx.workspace })).exitCode).toBe(0);
    const untracked = await primaryState();
    expectRefused(await merge('2'), /would write over untracked files in the primary clone .*: notes\.txt/, { exitCode: 1 });
    expect(await primaryState()).toEqual(untracked);
    expect(readFileSync(path.join(fx.primary, 'notes.txt'), 'utf8')).toBe("the host user's own notes\n");
  });

  it('writes no file of the primary clone while a dev-all container, which can write it, runs; --into another branch still merges', async () => {
    await agentCommits(2, 'src/file3.txt', 'agent 2\n', 'agent 2 edits file3');
    // A container of this root's dev-all profile, as devkit labels it: all the check asks of the engine.
    const labels = ['--label', `devkit.root=${fx.root}`, '--label', 'devkit.profile=dev-all'];
    const id = (await execa('docker', ['run', '-d', '--rm', ...labels, 'devkit/base:bookworm', 'sleep', '300'])).stdout.trim();
    try {
      expect((await devkit(['sync', '2'], { cwd: fx.workspace })).exitCode).toBe(0);
      const before = await primaryState();
      expectRefused(
        await merge('2'),
        /main is checked out in the primary clone, which dev-all can write while it runs: .*run devkit -p dev-all down first/,
        { exitCode: 1 },
      );
      expect(await primaryState()).toEqual(before);
      await git(fx.primary, ['branch', 'release', 'main']);
      const into = await merge('2', '--into', 'release');
      expect(into.exitCode, into.stderr).toBe(0);
      expect((await git(fx.primary, ['show', 'release:src/file3.txt'])).trim()).toBe('agent 2');
    } finally {
      await execa('docker', ['rm', '-f', id]);
    }
  });

  it('--squash --remove: one commit on main naming the agent and its commits, then the copy and branch go', async () => {
    await agentCommits(2, 'src/file5.txt', 'first\n', 'agent 2 step one');
    await agentCommits(2, 'src/file6.txt', 'second\n', 'agent 2 step two');
    await hostCommits('src/file7.txt', 'host\n', 'host moves main on');
    const old = await main();

    const result = await merge('2', '--squash', '--remove');
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split('\n')).toEqual([
      expect.stringMatching(/^merged agent2\/main into main \(squash commit [0-9a-f]{7}, 2 commits\)$/),
      `removed agent2 (${agentCopy(fx, 2)}) and its branch agent2/main: its work is in main`,
    ]);
    // One commit on main, on top of the old main, with both changes and a message naming the agent's commits.
    expect((await git(fx.primary, ['rev-parse', 'main^'])).trim()).toBe(old);
    expect((await git(fx.primary, ['rev-list', '--parents', '-1', 'main'])).trim().split(' ')).toHaveLength(2);
    const message = await git(fx.primary, ['log', '-1', '--format=%B', 'main']);
    expect(message).toMatch(/^Squash-merge agent2\/main into main \(2 commits\)/);
    expect(message).toMatch(/\* [0-9a-f]{7} agent 2 step one\n\* [0-9a-f]{7} agent 2 step two/);
    expect(readFileSync(path.join(fx.primary, 'src', 'file5.txt'), 'utf8')).toBe('first\n');
    expect(readFileSync(path.join(fx.primary, 'src', 'file6.txt'), 'utf8')).toBe('second\n');
    expect(await primaryStatus()).toBe('');
    // The agent is gone: its copy and its branch (its commits are not on main, their change is).
    expect(existsSync(agentCopy(fx, 2))).toBe(false);
    expect((await git(fx.primary, ['branch', '--list', 'agent2/main'])).trim()).toBe('');
  });

  it('--remove keeps an agent whose copy holds uncommitted work, saying why, after merging what it committed', async () => {
    await agentCommits(3, 'src/file8.txt', 'committed\n', 'agent 3 commits');
    writeAsAgent(path.join(agentCopy(fx, 3), 'src', 'file9.txt'), 'not committed yet\n');

    const result = await merge('3', '--squash', '--remove', '--json');
    expect(result.exitCode).toBe(0);
    const parsed = JSON.parse(result.stdout) as { how: string; removal: { removed: boolean; reason: string } };
    expect(parsed.how).toBe('squash commit');
    expect(parsed.removal).toEqual({ removed: false, reason: expect.stringMatching(/agent 3 holds 1 modified file/) });
    expect(existsSync(path.join(agentCopy(fx, 3), 'src', 'file9.txt'))).toBe(true);
    expect((await git(fx.primary, ['branch', '--list', 'agent3/main'])).trim()).toBe('agent3/main');
    expect(await git(fx.primary, ['show', 'main:src/file8.txt'])).toBe('committed');

    // Without --json: one line saying it was kept and why.
    await agentCommits(4, 'src/file10.txt', 'four\n', 'agent 4 commits');
    writeAsAgent(path.join(agentCopy(fx, 4), 'scratch.txt'), 'untracked\n');
    const human = await merge('4', '--remove');
    expect(human.exitCode).toBe(0);
    expect(human.stdout.split('\n')[1]).toMatch(/^kept agent4 and its branch agent4\/main: .*agent 4 holds 1 untracked file/);
    expect(existsSync(agentCopy(fx, 4))).toBe(true);
  });

  it('--rebase replays the agent commits onto main as a line, and leaves agent2/main as it is', async () => {
    await agentCommits(2, 'src/file11.txt', 'one\n', 'agent 2 first');
    const tip = await agentCommits(2, 'src/file12.txt', 'two\n', 'agent 2 second');
    await hostCommits('src/file13.txt', 'host\n', 'host moves main on');

    const result = await merge('2', '--rebase');
    expect(result).toMatchObject({
      exitCode: 0,
      stdout: expect.stringMatching(/^merged agent2\/main into main \(rebased, main now at [0-9a-f]{7}, 2 commits\)$/),
    });
    expect((await git(fx.primary, ['rev-list', '--merges', 'main'])).trim()).toBe('');
    expect((await git(fx.primary, ['log', '-3', '--format=%s|%an', 'main'])).split('\n')).toEqual([
      'agent 2 second|Test',
      'agent 2 first|Test',
      'host moves main on|Test',
    ]);
    expect(readFileSync(path.join(fx.primary, 'src', 'file12.txt'), 'utf8')).toBe('two\n');
    expect(await primaryStatus()).toBe('');
    // The agent's branch is untouched: in the shared repo and in its copy.
    expect((await git(fx.primary, ['rev-parse', 'agent2/main'])).trim()).toBe(tip);
    expect((await agentGit(agentCopy(fx, 2), ['rev-parse', 'HEAD'])).trim()).toBe(tip);
  });

  it('--rebase --remove removes the agent: each of its commits is on main under another id (patch-id), though agent2/main is not', async () => {
    await agentCommits(2, 'src/file11.txt', 'one\n', 'agent 2 first');
    await agentCommits(2, 'src/file12.txt', 'two\n', 'agent 2 second');
    await hostCommits('src/file13.txt', 'host\n', 'host moves main on');
    const result = await merge('2', '--rebase', '--remove', '--json');
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      how: 'rebased',
      removal: { removed: true, proof: 'each commit', branch: 'agent2/main', branchDeleted: true },
    });
    expect(existsSync(agentCopy(fx, 2))).toBe(false);
    expect((await git(fx.primary, ['branch', '--list', 'agent2/main'])).trim()).toBe('');
    expect((await git(fx.primary, ['log', '-2', '--format=%s', 'main'])).split('\n')).toEqual(['agent 2 second', 'agent 2 first']);
  });

  it('--into a branch not checked out moves only that branch; main and the primary clone stay as they were', async () => {
    await git(fx.primary, ['branch', 'release']);
    await agentCommits(4, 'src/file14.txt', 'four\n', 'agent 4 for release');
    await hostCommits('src/file15.txt', 'host\n', 'main only');
    const mainBefore = await main();
    const result = await merge('4', '--into', 'release', '--json');
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ into: 'release', how: 'fast-forward', checkedOut: false, commits: 1 });
    expect(await git(fx.primary, ['show', 'release:src/file14.txt'])).toBe('four');
    expect(await main()).toBe(mainBefore);
    expect(readFileSync(path.join(fx.primary, 'src', 'file14.txt'), 'utf8')).toBe('line 14\n');
    expect(await primaryStatus()).toBe('');
  });

  it("merges into the agent's base by default: the branch worktrees init --base started it from", async () => {
    await git(fx.primary, ['branch', 'develop']);
    expect((await devkit(['worktrees', 'init', '5', '--base', 'develop'], { cwd: fx.workspace })).exitCode).toBe(0);
    await agentCommits(5, 'src/file17.txt', 'five\n', 'agent 5 for develop');
    const mainBefore = await main();
    const result = await merge('5');
    expect(result).toMatchObject({ exitCode: 0, stdout: expect.stringMatching(/^merged agent5\/main into develop \(fast-forward/) });
    expect(await git(fx.primary, ['show', 'develop:src/file17.txt'])).toBe('five');
    expect(await main()).toBe(mainBefore);
    const log = await devkit(['log', '5'], { cwd: fx.workspace });
    expect(log.stdout).toBe('agent5/main has no commits that develop does not have');
  });

  it('says so when there is nothing to merge', async () => {
    const result = await merge('2');
    expect(result).toMatchObject({ exitCode: 0, stdout: 'agent2/main is already in main (nothing to merge)' });
  });

  it.each([
    [['9'], /there is no agent 9/],
    [['1'], /agent 1 is the primary clone/],
    [['2', '--squash', '--rebase'], /--squash and --rebase cannot go together/],
    [['2', '--into', 'nosuch'], /--into nosuch: there is no branch nosuch/],
    [['2', '--into', 'agent3/main'], /agent3\/main is agent 3's branch/],
  ])('refuses merge %j: one line, exit 2, nothing changed', async (args, said) => {
    await agentCommits(2, 'src/file16.txt', 'two\n', 'agent 2 work');
    const before = snapshot(fx.root);
    expectRefused(await merge(...args), said, { exitCode: 2, unchanged: { dir: fx.root, before } });
  });
});

describe('devkit log', () => {
  const devRoot = useDevRoot({ agents: 2 });

  it("lists the agent's commits not on its base, newest first, after a sync", async () => {
    const fx = devRoot();
    const copy = agentCopy(fx, 2);
    for (const message of ['one', 'two']) await agentGit(copy, ['commit', '-q', '--allow-empty', '-m', `agent 2 ${message}`]);
    const log = await devkit(['log', '2'], { cwd: fx.workspace });
    expect(log.exitCode).toBe(0);
    expect(log.stdout.split('\n')).toEqual([
      expect.stringMatching(/^[0-9a-f]{7} agent 2 two \(Test, /),
      expect.stringMatching(/^[0-9a-f]{7} agent 2 one \(Test, /),
    ]);
    const json = await devkit(['log', '2', '-n', '1', '--json'], { cwd: fx.workspace });
    expect(JSON.parse(json.stdout)).toMatchObject({
      branch: 'agent2/main',
      base: 'main',
      commits: [{ subject: 'agent 2 two', author: 'Test', email: 'test@localhost' }],
    });
    expectRefused(await devkit(['log', '2', '-n', 'x'], { cwd: fx.workspace }), /-n must be an integer/);
  });
});
