import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profileProject } from '../src/stack/project-names.js';
import { describeWithDocker, docker, profileContainers, removeStacks } from './support/docker.js';
import {
  agentCopy,
  agentHome,
  devkit,
  expectRefused,
  git,
  makeDevRoot,
  rootStateOf,
  snapshot,
  writeAsAgent,
  type DevRootFixture,
} from './support/sandbox.js';

/** The primary clone's local files a new agent needs (issue 12): .env and .bsp/ ignored there, named in .devkit/include. */
async function withLocalFiles(fx: DevRootFixture): Promise<void> {
  appendFileSync(path.join(fx.primary, '.gitignore'), '.env\n.bsp/\n');
  await git(fx.primary, ['commit', '-qam', 'ignore local files']);
  writeFileSync(path.join(fx.primary, '.env'), 'TOKEN=local\n', { mode: 0o600 });
  mkdirSync(path.join(fx.primary, '.bsp'));
  writeFileSync(path.join(fx.primary, '.bsp', 'sbt.json'), '{"name":"sbt"}\n');
  mkdirSync(path.join(fx.workspace, '.devkit'), { recursive: true });
  writeFileSync(path.join(fx.workspace, '.devkit', 'include'), '.env\n.bsp/\n');
}

describe('the include file', () => {
  let fx: DevRootFixture;
  beforeAll(async () => {
    fx = await makeDevRoot();
    await withLocalFiles(fx);
  });
  afterAll(() => fx.cleanup());

  it('copies the files it names into a new copy, never a link out of the primary clone nor a HOME, and says how many', async () => {
    // Planted by a dev-all agent: a link to a host file, a FIFO, and agent 1's HOME matched by a pattern.
    symlinkSync('/etc/hostname', path.join(fx.primary, '.bsp', 'host-link'));
    execFileSync('mkfifo', [path.join(fx.primary, '.bsp', 'pipe')]);
    mkdirSync(path.join(fx.primary, '.devhome-agent1', '.ssh'), { recursive: true });
    writeFileSync(path.join(fx.primary, '.devhome-agent1', '.ssh', 'id_ed25519'), 'secret\n');
    appendFileSync(path.join(fx.workspace, '.devkit', 'include'), '.devhome-agent1/\n');

    const init = await devkit(['worktrees', 'init', '2'], { cwd: fx.workspace });
    expect(init.exitCode, init.stderr).toBe(0);
    expect(init.stdout).toContain(`agent2\tagent2/main\t${agentCopy(fx, 2)}\tcreated, 2 included files copied`);
    expect(init.stderr).toContain('agent2: left out included .bsp/host-link: a symbolic link');
    const copy = agentCopy(fx, 2);
    expect(readFileSync(path.join(copy, '.env'), 'utf8')).toBe('TOKEN=local\n');
    expect(readFileSync(path.join(copy, '.bsp', 'sbt.json'), 'utf8')).toBe('{"name":"sbt"}\n');
    expect(existsSync(path.join(copy, '.bsp', 'host-link'))).toBe(false);
    expect(existsSync(path.join(copy, '.bsp', 'pipe'))).toBe(false);
    expect(existsSync(path.join(copy, '.devhome-agent1'))).toBe(false);

    // An existing agent is left as it is: a changed .env in the primary clone does not reach it.
    writeFileSync(path.join(fx.primary, '.env'), 'TOKEN=changed\n');
    const again = await devkit(['worktrees', 'init', '2', '--json'], { cwd: fx.workspace });
    expect(JSON.parse(again.stdout)).toMatchObject({ agents: [{ included: null }, { action: 'present', included: null }] });
    expect(readFileSync(path.join(copy, '.env'), 'utf8')).toBe('TOKEN=local\n');
  });

  it.each([
    [
      'a symbolic link',
      (file: string) => symlinkSync('/etc/hostname', file),
      /\.devkit\/include is a symbolic link: it must be a plain file/,
    ],
    ['a folder', (file: string) => mkdirSync(file), /\.devkit\/include is a folder: it must be a plain file/],
  ])('an include file that is %s is refused: exit 2, one line, nothing made', async (_what, make, message) => {
    const file = path.join(fx.workspace, '.devkit', 'include');
    const saved = readFileSync(file);
    rmSync(file);
    make(file);
    try {
      const before = snapshot(path.dirname(fx.root));
      expectRefused(await devkit(['worktrees', 'init', '3'], { cwd: fx.workspace }), message, {
        unchanged: { dir: path.dirname(fx.root), before },
      });
    } finally {
      rmSync(file, { recursive: true });
      writeFileSync(file, saved);
    }
  });
});

describeWithDocker('hooks in devkit.yml, run in the agent containers', () => {
  let fx: DevRootFixture;
  const run = (args: string[]) => devkit(args, { cwd: fx.workspace });
  const hookLog = (k: number, hook: string) => path.join(rootStateOf(fx), 'hooks', `agent${k}`, `${hook}.log`);

  beforeAll(async () => {
    fx = await makeDevRoot({ repo: `hooks${process.pid}` });
    await withLocalFiles(fx);
    appendFileSync(
      path.join(fx.workspace, 'devkit.yml'),
      [
        'hooks:',
        '  postCreate:',
        `    - 'echo made >> "$HOME/post-create.txt"'`,
        `    - 'if [ -e "$HOME/fail-setup" ]; then echo setup broke; exit 3; fi'`,
        `  preRemove: 'if [ -e "$HOME/keep-me" ]; then echo not yet; exit 4; fi; touch "$HOME/pre-removed"'`,
        '',
      ].join('\n'),
    );
    const init = await run(['worktrees', 'init', '3']);
    expect(init.exitCode, init.stderr).toBe(0);
    expect(init.stdout).toContain('created, 2 included files copied');
  }, 300_000);
  afterAll(async () => {
    await removeStacks(fx.root, fx.repo);
    fx.cleanup();
  });

  it('postCreate runs once, after the first up; .env is in the copy and git there sees it ignored, not tracked', async () => {
    const first = await run(['-p', 'agent2', 'up']);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stderr).toContain(`agent2: postCreate hook done (output: ${hookLog(2, 'postCreate')})`);
    const second = await run(['-p', 'agent2', 'up']);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stderr).not.toContain('postCreate');
    expect(readFileSync(path.join(agentHome(fx, 2), 'post-create.txt'), 'utf8')).toBe('made\n');

    const status = await run(['agent', 'run', '2', '--', 'git', 'status', '--porcelain', '--ignored']);
    expect(status.exitCode, status.stderr).toBe(0);
    expect(status.stdout.split('\n')).toEqual(expect.arrayContaining(['!! .env', '!! .bsp/']));
    expect((await run(['agent', 'run', '2', '--', 'cat', '.env'])).stdout).toBe('TOKEN=local');
    expect((await run(['agent', 'run', '2', '--', 'git', 'ls-files', '--', '.env'])).stdout).toBe('');
  });

  it('a failing postCreate fails up naming the agent, the exit code and its output; the agent and its stack stay', async () => {
    writeAsAgent(path.join(agentHome(fx, 3), 'fail-setup'), '');
    const up = await run(['-p', 'agent3', 'up']);
    expect(up.exitCode).toBe(1);
    expect(up.stdout).toMatch(/^agent3: dev running/);
    const log = hookLog(3, 'postCreate');
    expect(
      up.stderr
        .trimEnd()
        .split('\n')
        .filter((line) => line.startsWith('devkit: ')),
    ).toEqual([
      `devkit: agent3's postCreate hook failed (exit 3; its output: ${log}): the agent is kept and its stack is up; ` +
        'the hook runs again on the next up',
    ]);
    expect(readFileSync(log, 'utf8')).toBe('setup broke\n');
    expect(await profileContainers(fx.root, 'agent3', { service: 'dev', running: true })).not.toBe('');
    expect(existsSync(agentCopy(fx, 3))).toBe(true);
    await run(['-p', 'agent3', 'down']);
  });

  it('a failing preRemove refuses the removal with nothing removed; once it passes, removal goes on', async () => {
    expect((await run(['-p', 'agent2', 'down'])).exitCode).toBe(0);
    writeAsAgent(path.join(agentHome(fx, 2), 'keep-me'), '');
    const before = snapshot(agentCopy(fx, 2));
    const log = hookLog(2, 'preRemove');
    expectRefused(
      await run(['worktrees', 'remove', '2', '--force']),
      new RegExp(`agent2's preRemove hook failed \\(exit 4; its output: ${log}\\): removal refused, nothing removed`),
      { exitCode: 1, unchanged: { dir: agentCopy(fx, 2), before } },
    );
    expect(readFileSync(log, 'utf8')).toContain('not yet\n');

    rmSync(path.join(agentHome(fx, 2), 'keep-me'));
    const removed = await run(['worktrees', 'remove', '2', '--force']);
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(existsSync(agentCopy(fx, 2))).toBe(false);
    expect(existsSync(path.join(agentHome(fx, 2), 'pre-removed'))).toBe(true);
    // The hook's container and networks are gone with it.
    expect(await docker(['ps', '-aq', '--filter', `label=devkit.root=${fx.root}`, '--filter', 'label=devkit.agent=agent2'])).toBe('');
    const project = `label=com.docker.compose.project=${profileProject(fx, 'agent2')}`;
    expect(await docker(['network', 'ls', '-q', '--filter', project])).toBe('');
  });
});
