import { execa } from 'execa';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithDocker, removeStacks } from './support/docker.js';
import {
  DEVKIT_BIN,
  agentCopy,
  agentHome,
  backupsRepo as backupsRepoOf,
  devkit,
  expectRefused,
  makeDevRoot,
  rootStateOf,
  snapshot,
  type DevRootFixture,
} from './support/sandbox.js';

/**
 * A dev root of its own with agent 2's container up, made before a suite's
 * tests (`beforeUp` runs between worktrees init and up) and removed after;
 * `run` is devkit in its workspace, `inside` a shell as agent 2 in its copy.
 */
function withAgentTwoUp(options: { repo: string; made: (fx: DevRootFixture) => void; beforeUp?: (fx: DevRootFixture) => void }): {
  run: (args: string[]) => ReturnType<typeof devkit>;
  inside: (script: string) => Promise<string>;
} {
  let fx: DevRootFixture | undefined;
  const run = (args: string[]) => {
    if (fx === undefined) throw new Error('the dev root is made in beforeAll');
    return devkit(args, { cwd: fx.workspace });
  };
  const inside = async (script: string): Promise<string> => {
    const result = await run(['agent', 'run', '2', '--', 'sh', '-c', script]);
    expect(result.exitCode, result.stderr).toBe(0);
    return result.stdout;
  };
  beforeAll(async () => {
    fx = await makeDevRoot({ repo: options.repo });
    options.made(fx);
    expect((await run(['worktrees', 'init', '2'])).exitCode).toBe(0);
    options.beforeUp?.(fx);
    const up = await run(['-p', 'agent2', 'up']);
    expect(up.exitCode, up.stderr).toBe(0);
  }, 300_000);
  afterAll(async () => {
    if (fx !== undefined) {
      await removeStacks(fx.root, fx.repo);
      fx.cleanup();
    }
  });
  return { run, inside };
}

/**
 * Checkpoints and restore (issue 12) against agent 2's real container: the
 * work is made and wrecked inside it, as a user would, and restore writes
 * the copy through the agent's own git there.
 */
describeWithDocker('checkpoint, checkpoints and restore', () => {
  let fx: DevRootFixture;
  const { run, inside } = withAgentTwoUp({
    repo: `ckpt${process.pid}`,
    made: (made) => (fx = made),
    beforeUp: (made) => {
      mkdirSync(path.join(made.workspace, '.devkit'), { recursive: true });
      writeFileSync(path.join(made.workspace, '.devkit', 'include'), 'target/keep.txt\n');
    },
  });
  // What git says of the copy, inside the container: HEAD, its branch, the index entries, the status and what is staged.
  const state = () =>
    inside(
      'git rev-parse HEAD; git symbolic-ref HEAD; git ls-files -s; git status --porcelain=v1 --untracked-files=all; ' +
        'echo staged:; git diff --cached --name-status',
    );
  const listed = async (): Promise<Array<{ name: string; kind: string; message: string }>> => {
    const result = await run(['checkpoints', '2', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as { checkpoints: Array<{ name: string; kind: string; message: string }> }).checkpoints;
  };
  let first = '';

  it('restore brings back a commit, a staged change, a modified and an untracked file, and the index, after reset --hard and clean -fdx', async () => {
    await inside(
      'echo c > committed.txt && git add committed.txt && git commit -qm work && ' +
        'echo s > staged.txt && git add staged.txt && echo changed >> README && echo u > untracked.txt && ' +
        'mkdir -p target && echo kept > target/keep.txt && echo built > target/build.o && echo mine > ~/notes',
    );
    const before = await state();
    expect(before).toMatch(/^A {2}staged\.txt$/m);
    expect(before).toMatch(/^ M README$/m);
    expect(before).toMatch(/^\?\? untracked\.txt$/m);

    const made = await run(['checkpoint', '2', '-m', 'before the wreck']);
    expect(made.exitCode, made.stderr).toBe(0);
    first = made.stdout.trim();
    expect(first).toMatch(/^\d{8}T\d{6}\.\d{3}Z$/);
    expect(await state()).toBe(before); // the checkpoint touched nothing

    await inside(
      'git reset -q --hard HEAD~1 && git clean -q -fdx -e /.devhome && echo junk > junk.txt && mkdir -p target && echo other > target/other.o',
    );
    expect(await inside('git log --format=%s -1')).toBe('second');

    const restored = await run(['restore', '2', first]);
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(
      new RegExp(`^saved what agent2 held first as checkpoint \\S+\\nrestored ${first.replace('.', '\\.')} into agent2's copy$`),
    );
    expect(await state()).toBe(before);
    expect(await inside('git log --format=%s -1 agent2/main; git diff --cached --name-only; git diff --name-only')).toBe(
      'work\nstaged.txt\nREADME',
    );
    // The included ignored file is back; ignored build output it does not have is left; what it does not have is gone; HOME untouched.
    expect(await inside('cat target/keep.txt target/other.o ~/notes; ls target; test ! -e junk.txt && echo no-junk')).toBe(
      'kept\nother\nmine\nkeep.txt\nother.o\nno-junk',
    );
  });

  it('restore of a dirty copy checkpoints it first, and checkpoints lists both, newest first', async () => {
    await inside('echo newer > newer.txt');
    const again = await run(['restore', '2', first, '--json']);
    expect(again.exitCode, again.stderr).toBe(0);
    const saved = (JSON.parse(again.stdout) as { saved: { name: string } | null }).saved;
    expect(saved).not.toBeNull();
    expect(await inside('test -e newer.txt || echo gone')).toBe('gone');
    const list = await listed();
    expect(list.map((c) => c.name)).toContain(first);
    expect(list[0]).toMatchObject({ name: saved?.name, kind: 'checkpoint', message: `before restoring ${first}` });
    expect(list.find((c) => c.name === first)).toMatchObject({ kind: 'checkpoint', message: 'before the wreck' });
    // The newer work is in the automatic checkpoint.
    expect((await run(['restore', '2', saved?.name ?? ''])).exitCode).toBe(0);
    expect(await inside('cat newer.txt')).toBe('newer');
    const table = await run(['checkpoints', '2']);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME +TIME +KIND +HEAD +BRANCH +MESSAGE$/);
  });

  it('status --watch --checkpoint-every checkpoints a changed copy, and not an unchanged one', async () => {
    const watch = execa(DEVKIT_BIN, ['status', '--watch', '--checkpoint-every', '1s'], { cwd: fx.workspace, reject: false });
    let stderr = '';
    const made = (): string[] => [...stderr.matchAll(/^devkit: checkpoint (\S+) of agent2$/gm)].map((m) => m[1] ?? '');
    watch.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const until = async (count: number): Promise<void> => {
      for (let i = 0; i < 300 && made().length < count; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    };
    try {
      await until(1); // the copy differs from its latest checkpoint (taken before the last restore)
      expect(made()).toHaveLength(1);
      await new Promise((resolve) => setTimeout(resolve, 3500)); // rounds with nothing changed
      expect(made()).toHaveLength(1);
      await inside('echo more >> untracked.txt');
      await until(2);
      expect(made()).toHaveLength(2);
    } finally {
      watch.kill('SIGINT');
      await watch;
    }
    expect((await listed()).map((c) => c.name).slice(0, 2)).toEqual(made().reverse());
  });

  it('bad input: unknown agent, agent 1, unknown checkpoint, bad DURATION: exit 2, one line, nothing changed', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['checkpoint', '5'], /^devkit: there is no agent 5 \(agents: 1, 2\)/],
      [['checkpoint', '1'], /^devkit: agent 1 is the primary clone: checkpoints are for agents 2 and up$/],
      [['checkpoints', '1'], /^devkit: agent 1 is the primary clone/],
      [['restore', '1', first], /^devkit: agent 1 is the primary clone: restore is for agents 2 and up$/],
      [['restore', '5', first], /^devkit: there is no agent 5/],
      [['restore', '2', 'nope'], /^devkit: agent 2 has no checkpoint or backup "nope": devkit checkpoints 2 lists them$/],
      [
        ['status', '--watch', '--checkpoint-every', '5x'],
        /^devkit: --checkpoint-every "5x" is not a duration: give one like 30s, 5m or 1h$/,
      ],
      [['status', '--checkpoint-every', '5s'], /^devkit: --checkpoint-every goes with --watch/],
    ];
    for (const [args, message] of cases) {
      const before = snapshot(fx.root);
      const home = snapshot(agentHome(fx, 2));
      expectRefused(await run(args), message, { unchanged: { dir: fx.root, before } });
      expect(snapshot(agentHome(fx, 2))).toEqual(home);
    }
  });
});

describeWithDocker('checkpoint with no container running', () => {
  let fx: DevRootFixture;
  const run = (args: string[]) => devkit(args, { cwd: fx.workspace });
  beforeAll(async () => {
    fx = await makeDevRoot({ repo: `ckhost${process.pid}` });
    expect((await run(['worktrees', 'init', '2'])).exitCode).toBe(0);
  });
  afterAll(() => fx?.cleanup());

  it('reads the copy on the host, touches nothing, and restore refuses (exit 1) with the command that starts the container', async () => {
    const copy = path.join(fx.root, 'agent2', fx.repo);
    writeFileSync(path.join(copy, 'untracked.txt'), 'u\n');
    writeFileSync(path.join(copy, 'README'), 'changed\n');
    // The agent's folder, copy and HOME: (git freshens the mtime of shared objects a checkpoint writes again, in the shared repo).
    const agentDir = path.join(fx.root, 'agent2');
    const untouched = snapshot(agentDir);
    const made = await run(['checkpoint', '2', '--json']);
    expect(made.exitCode, made.stderr).toBe(0);
    const checkpoint = JSON.parse(made.stdout) as { name: string; readIn: string; tree: string };
    expect(checkpoint.readIn).toBe('host');
    expect(snapshot(agentDir)).toEqual(untouched);
    const before = snapshot(fx.root);
    const files = await execa('git', ['--git-dir', backupsRepoOf(fx), 'ls-tree', '--name-only', checkpoint.tree]);
    expect(files.stdout.split('\n')).toEqual(expect.arrayContaining(['README', 'untracked.txt', 'src']));
    expectRefused(
      await run(['restore', '2', checkpoint.name]),
      /^devkit: agent2's container is not running, and devkit restores through it: start it with devkit -p agent2 up, then run devkit restore 2 \S+ again$/,
      { exitCode: 1, unchanged: { dir: fx.root, before } },
    );
  });
});

describeWithDocker('restore of a removal backup', () => {
  let fx: DevRootFixture;
  const { run, inside } = withAgentTwoUp({ repo: `ckrm${process.pid}`, made: (made) => (fx = made) });

  it("worktrees remove --force, then devkit restore K backup/<time> brings the work back into agent K's own copy", async () => {
    await inside(
      'echo c > committed.txt && git add committed.txt && git commit -qm work && ' +
        'echo s > staged.txt && git add staged.txt && echo changed >> README && echo u > untracked.txt',
    );
    // What git in the container says of the copy: HEAD, its branch, the index, the status.
    const state = 'git rev-parse HEAD; git symbolic-ref HEAD; git ls-files -s; git status --porcelain=v1 --untracked-files=all';
    const before = await inside(state);
    expect(before).toMatch(/^ M README\nA {2}staged\.txt\n\?\? untracked\.txt$/m);

    expect((await run(['-p', 'agent2', 'down'])).exitCode).toBe(0);
    const removed = await run(['worktrees', 'remove', '2', '--force']);
    expect(removed.exitCode, removed.stderr).toBe(0);
    const name = /^restore with: devkit restore 2 (backup\/\d{8}T\d{6}\.\d{3}Z)$/m.exec(removed.stdout)?.[1] ?? '';
    expect(name).not.toBe('');
    expect(existsSync(agentCopy(fx, 2))).toBe(false);
    const listed = await run(['checkpoints', '2', '--json']);
    expect(JSON.parse(listed.stdout)).toMatchObject({ checkpoints: [{ name, kind: 'backup' }] });

    // Bad input: a backup it does not have. One line, exit 2, nothing made again.
    const root = snapshot(fx.root);
    const state0 = snapshot(rootStateOf(fx));
    expectRefused(
      await run(['restore', '2', 'no-such-backup']),
      /^devkit: agent 2 has no checkpoint or backup "no-such-backup": devkit checkpoints 2 lists them$/,
      { unchanged: { dir: fx.root, before: root } },
    );
    expect(snapshot(rootStateOf(fx))).toEqual(state0);

    // As a user would: restore makes the copy again and asks for the container, then restores through it.
    expectRefused(
      await run(['restore', '2', name]),
      new RegExp(
        `^devkit: made agent2's copy again; agent2's container is not running, .*devkit -p agent2 up, then run devkit restore 2 ${name.replace('.', '\\.')} again$`,
      ),
      { exitCode: 1 },
    );
    expect((await run(['-p', 'agent2', 'up'])).exitCode).toBe(0);
    const restored = await run(['restore', '2', name]);
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(restored.stdout).toBe(`restored ${name} into agent2's copy`);

    expect(await inside(state)).toBe(before);
    // The commit on agent2/main, the staged change in the index, the modified and the untracked file.
    expect(await inside('git log --format=%s -1 agent2/main; git diff --cached --name-only; git diff --name-only; cat untracked.txt')).toBe(
      'work\nstaged.txt\nREADME\nu',
    );
    // In agent 2's own folder on the host, not in a folder of its own.
    expect(readFileSync(path.join(agentCopy(fx, 2), 'untracked.txt'), 'utf8')).toBe('u\n');
    expect(readdirSync(fx.root).filter((entry) => entry.includes('restored'))).toEqual([]);
  });
});
