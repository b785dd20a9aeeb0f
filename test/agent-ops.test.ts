import { execa } from 'execa';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { paneShows, tmux } from './support/tmux.js';
import { describeWithDocker, removeStacks } from './support/docker.js';
import { projectPrefix } from '../src/stack/project-names.js';
import {
  DEVKIT_BIN,
  agentCopy,
  agentHome,
  devkit,
  expectRefused,
  makeDevRoot,
  snapshot,
  tempDir,
  type DevRootFixture,
} from './support/sandbox.js';

describeWithDocker('agent operations: tmux shells and agent CLIs with their own HOME', () => {
  let fx: DevRootFixture;
  const run = (args: string[], env?: Record<string, string>) => devkit(args, { cwd: fx.workspace, env });

  beforeAll(async () => {
    fx = await makeDevRoot({ repo: `ops${process.pid}` });
    expect((await run(['worktrees', 'init', '3'])).exitCode).toBe(0);
    for (const k of [1, 2, 3]) writeFileSync(path.join(agentHome(fx, k), 'who'), `home of agent ${k}\n`);
  });
  afterAll(async () => {
    if (fx !== undefined) {
      await tmux(['kill-session', '-t', `=${fx.repo}`]);
      await removeStacks(fx.root, fx.repo);
      fx.cleanup();
    }
  });

  it('tmux-shells 3: one window per agent, each a shell in its own container, at its copy, with its own HOME', async () => {
    const result = await run(['tmux-shells', '3']);
    expect(result).toMatchObject({ exitCode: 0, stdout: `attach with: tmux attach -t ${fx.repo}` });
    expect((await tmux(['list-windows', '-t', `=${fx.repo}`, '-F', '#{window_name}'])).stdout.split('\n')).toEqual([
      'agent1',
      'agent2',
      'agent3',
    ]);
    for (const k of [2, 3]) {
      const window = `=${fx.repo}:agent${k}`;
      await paneShows(window, new RegExp(`^agent${k}:/workspace[$#]`, 'm'));
      await tmux(['send-keys', '-t', window, 'echo "HOME is $HOME"; cat "$HOME/who"', 'Enter']);
      const screen = await paneShows(window, new RegExp(`^home of agent ${k}$`, 'm'));
      expect(screen).toMatch(/^HOME is \/workspace\/\.devhome$/m);
      expect(screen).not.toMatch(new RegExp(`home of agent ${5 - k}`));
    }
  });

  it('tmux-shells again adds only missing windows', async () => {
    expect((await run(['tmux-shells', '3', '--json'])).exitCode).toBe(0); // the session exists from here on, whatever ran before
    const again = JSON.parse((await run(['tmux-shells', '3', '--json'])).stdout) as { windows: Array<{ name: string; created: boolean }> };
    expect(again.windows.map((w) => [w.name, w.created])).toEqual([
      ['agent1', false],
      ['agent2', false],
      ['agent3', false],
    ]);
    await tmux(['kill-window', '-t', `=${fx.repo}:agent3`]);
    const refilled = JSON.parse((await run(['tmux-shells', '3', '--json'])).stdout) as {
      windows: Array<{ name: string; created: boolean }>;
    };
    expect(refilled.windows.map((w) => [w.name, w.created])).toEqual([
      ['agent1', false],
      ['agent2', false],
      ['agent3', true],
    ]);
    expect((await tmux(['list-windows', '-t', `=${fx.repo}`, '-F', '#{window_name}'])).stdout.split('\n').sort()).toEqual([
      'agent1',
      'agent2',
      'agent3',
    ]);
  });

  it("tmux-shells of another dev root with a repo of the same name opens a session of its own, leaving this root's windows alone", async () => {
    const other = await makeDevRoot({ repo: fx.repo });
    const inOther = (args: string[]) => devkit(args, { cwd: other.workspace });
    try {
      expect((await inOther(['worktrees', 'init', '1'])).exitCode).toBe(0);
      const opened = await inOther(['tmux-shells', '1', '--json']);
      expect(opened.exitCode).toBe(0);
      const { session, windows } = JSON.parse(opened.stdout) as { session: string; windows: Array<{ name: string; created: boolean }> };
      // Named after the repo and a hash of its root, as its compose projects are; its window is new, not this root's agent1.
      expect(session).toBe(projectPrefix({ root: other.root, repo: other.repo }));
      expect(windows).toEqual([{ name: 'agent1', created: true }]);
      await paneShows(`=${session}:agent1`, /^agent1:\/workspace[$#]/m);
      // This root's session still has its three windows; run again, each root finds its own session.
      expect((await tmux(['list-windows', '-t', `=${fx.repo}`, '-F', '#{window_name}'])).stdout.split('\n').sort()).toEqual([
        'agent1',
        'agent2',
        'agent3',
      ]);
      expect(JSON.parse((await run(['tmux-shells', '3', '--json'])).stdout)).toMatchObject({ session: fx.repo });
      expect(JSON.parse((await inOther(['tmux-shells', '1', '--json'])).stdout)).toEqual({
        session,
        windows: [{ name: 'agent1', created: false }],
      });
    } finally {
      await tmux(['kill-session', '-t', `=${projectPrefix({ root: other.root, repo: other.repo })}`]);
      await removeStacks(other.root, other.repo);
      other.cleanup();
    }
  });

  it('agent run keeps state per agent: what agent 2 writes to ~ agent 3 cannot read', async () => {
    const wrote = await run(['agent', 'run', '2', '--', 'sh', '-c', 'echo x > ~/.state']);
    expect(wrote.exitCode).toBe(0);
    expect((await run(['agent', 'run', '3', '--', 'sh', '-c', 'cat ~/.state'])).exitCode).not.toBe(0);
    expect((await run(['agent', 'run', '3', '--', 'cat', '/workspace/.devhome/.state'])).exitCode).not.toBe(0);
    expect((await run(['agent', 'run', '2', '--', 'sh', '-c', 'cat ~/.state'])).stdout).toBe('x');
    // The shortcuts run the named CLI the same way (here it is not installed: the shell's 127 comes back).
    expect((await run(['claude', '2', '--version'])).exitCode).toBeGreaterThanOrEqual(126);
  });

  it('status --json: one row per agent whose disk figures agree with du within 5%, with container state and refusals', async () => {
    // A name no policy allows: the proxy refuses it before any lookup, so nothing leaves the machine.
    await run(['agent', 'run', '2', '--', 'sh', '-c', 'curl -s -o /dev/null http://nowhere.invalid/']);
    writeFileSync(path.join(agentCopy(fx, 3), 'big.bin'), Buffer.alloc(3 * 1024 * 1024, 7));
    const result = await run(['status', '--json']);
    expect(result.exitCode).toBe(0);
    const { agents } = JSON.parse(result.stdout) as {
      agents: Array<{
        index: number;
        branch: string;
        dirty: { untracked: number };
        container: { state: string; uptimeSeconds: number };
        disk: { worktreeBytes: number; devhomeBytes: number };
        egressDenials: number;
      }>;
    };
    expect(agents.map((a) => [a.index, a.branch, a.container.state])).toEqual([
      [1, 'main', 'running'],
      [2, 'agent2/main', 'running'],
      [3, 'agent3/main', 'running'],
    ]);
    expect(agents[1]?.egressDenials).toBeGreaterThanOrEqual(1);
    expect(agents[2]?.dirty.untracked).toBe(1);
    expect(agents[2]?.container.uptimeSeconds).toBeGreaterThanOrEqual(0);
    const du = async (args: string[]) => Number((await execa('du', ['-s', '--block-size=1', ...args])).stdout.split('\t')[0]);
    const within5 = (ours: number, theirs: number) => expect(Math.abs(ours - theirs)).toBeLessThanOrEqual(theirs * 0.05);
    within5(agents[0]?.disk.worktreeBytes ?? -1, await du(['--exclude=.git', '--exclude=.devhome-agent1', fx.primary]));
    for (const k of [1, 2, 3]) within5(agents[k - 1]?.disk.devhomeBytes ?? -1, await du([agentHome(fx, k)]));
    for (const k of [2, 3]) within5(agents[k - 1]?.disk.worktreeBytes ?? -1, await du([agentCopy(fx, k)]));
    expect(agents[2]?.disk.worktreeBytes).toBeGreaterThan(3 * 1024 * 1024);
  });

  it('status --watch redraws the table until stopped, and refuses --json', async () => {
    const watch = execa(DEVKIT_BIN, ['status', '--watch'], { cwd: fx.workspace, reject: false });
    let output = '';
    const frames = (): number => output.split('\x1b[H\x1b[2J').filter((frame) => frame.includes('AGENT')).length;
    // Stopped once the second full table is drawn (each frame clears the screen first).
    await new Promise<void>((resolve) => {
      watch.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (frames() >= 2 && /agent3[^\n]*\n/.test(output.split('\x1b[H\x1b[2J').at(-1) ?? '')) resolve();
      });
    });
    watch.kill('SIGINT');
    await watch;
    expect(frames()).toBeGreaterThanOrEqual(2);
    expectRefused(await run(['status', '--watch', '--json']), /^devkit: --watch redraws a table on the terminal; leave out --json$/, {
      json: true,
    });
  });

  it('bad input: an index out of range, agents that do not exist, no tmux installed: exit 2, one line, nothing changed', async () => {
    const bin = path.join(tempDir('no-tmux'), 'bin');
    mkdirSync(bin);
    for (const tool of ['node', 'git', 'docker']) {
      const found = (await execa('sh', ['-c', `command -v ${tool}`])).stdout.trim();
      symlinkSync(found, path.join(bin, tool));
    }
    const cases: Array<[string[], RegExp, Record<string, string>?]> = [
      [['tmux-shells', '0'], /N \(the number of agents\) must be an integer from 1 to 64, got 0/],
      [['-p', 'agent2', 'tmux-shells', '3'], /-p agent2 is agent 2's container alone; tmux-shells opens a window per agent/],
      [['tmux-shells', '5'], /agents 4, 5 do not exist: make them with devkit worktrees init 5/],
      [['agent', 'run', 'x', '--', 'true'], /K \(the agent index\) must be an integer/],
      [['tmux-shells', '2'], /tmux is not installed/, { PATH: bin }],
    ];
    for (const [args, message, env] of cases) {
      const before = snapshot(fx.root);
      expectRefused(await run(args, env), message, { unchanged: { dir: fx.root, before } });
    }
  });
});
