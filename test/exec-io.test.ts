import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { processRuns } from './support/processes.js';
import { paneShows, tmux } from './support/tmux.js';
import { describeWithDocker, removeStacks } from './support/docker.js';
import { DEVKIT_BIN, devkit, expectRefused, makeDevRoot, type DevRootFixture } from './support/sandbox.js';

describeWithDocker('exec-cd input, output and exit codes', () => {
  let fx: DevRootFixture;
  const exec = (args: string[], input?: string) => devkit(['-p', 'agent2', 'exec-cd', '2', '.', ...args], { cwd: fx.workspace, input });

  beforeAll(async () => {
    fx = await makeDevRoot();
    expect((await devkit(['worktrees', 'init', '2'], { cwd: fx.workspace })).exitCode).toBe(0);
    expect((await devkit(['-p', 'agent2', 'up'], { cwd: fx.workspace })).exitCode).toBe(0);
  });
  afterAll(async () => {
    await tmux(['kill-session', '-t', `=devkit-test-${process.pid}`]);
    if (fx !== undefined) {
      await removeStacks(fx.root);
      fx.cleanup();
    }
  });

  it.each([0, 1, 7])('passes exit code %i through', async (code) => {
    expect((await exec(['sh', '-c', `exit ${code}`])).exitCode).toBe(code);
  });

  it('keeps stdout and stderr apart', async () => {
    const result = await exec(['sh', '-c', 'echo to-out; echo to-err >&2; echo more-out']);
    expect(result).toMatchObject({ exitCode: 0, stdout: 'to-out\nmore-out', stderr: 'to-err' });
  });

  it('round-trips 10 MB of binary stdin unchanged', async () => {
    const data = randomBytes(10 * 1024 * 1024);
    const child = await execa(DEVKIT_BIN, ['-p', 'agent2', 'exec-cd', '2', '.', 'cat'], {
      cwd: fx.workspace,
      input: data,
      encoding: 'buffer',
    });
    expect(child.exitCode).toBe(0);
    expect(Buffer.compare(child.stdout as Buffer, data)).toBe(0);
  });

  it('hands every byte to a reader that falls behind, before it exits', async () => {
    // The reader stops for a second near the end. A pipe holds 64 KiB: the 8000 bytes past that wait in devkit's queue,
    // under the 16 KiB at which a write says the reader is behind, so nothing holds devkit back from exiting but the queue.
    const size = 4 * 1024 * 1024;
    const tail = 65_536 + 8000;
    const reader = `{ head -c ${size - tail} > /dev/null; sleep 1; wc -c; }`;
    const piped = await execa('sh', ['-c', `"$0" -p agent2 exec-cd 2 . head -c ${size} /dev/zero | ${reader}`, DEVKIT_BIN], {
      cwd: fx.workspace,
      stdin: 'ignore',
    });
    expect(piped.stdout.trim()).toBe(String(tail));
  });

  it('gives the command an empty stdin when devkit has /dev/null or no stdin at all', async () => {
    const script = 'if read -r line; then echo "read $line"; else echo eof; fi';
    expect(await exec(['sh', '-c', script])).toMatchObject({ exitCode: 0, stdout: 'eof' }); // devkit() gives /dev/null
    const closed = await execa('sh', ['-c', `exec "$0" "$@" <&-`, DEVKIT_BIN, '-p', 'agent2', 'exec-cd', '2', '.', 'sh', '-c', script], {
      cwd: fx.workspace,
      stdin: 'ignore',
    });
    expect(closed.stdout).toBe('eof');
    expect(await exec(['sh', '-c', script], 'a line\n')).toMatchObject({ exitCode: 0, stdout: 'read a line' });
  });

  it('passes a signal sent to devkit on to the command (no terminal)', async () => {
    const child = execa(
      DEVKIT_BIN,
      ['-p', 'agent2', 'exec-cd', '2', '.', 'sh', '-c', 'trap "exit 42" TERM; echo ready; while :; do sleep 0.1; done'],
      {
        cwd: fx.workspace,
        reject: false,
      },
    );
    await new Promise<void>((resolve) => child.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve()));
    child.kill('SIGTERM');
    expect((await child).exitCode).toBe(42);
  });

  it('gives a terminal a prompt naming the agent, its HOME, and 130 after Ctrl-C', async () => {
    const session = `devkit-test-${process.pid}`;
    const command = `cd ${fx.workspace} && ${DEVKIT_BIN} -p agent2 exec-cd 2 .; echo "devkit-exit=$?"; sleep 60`;
    expect((await tmux(['new-session', '-d', '-s', session, '-x', '160', '-y', '40', command])).exitCode).toBe(0);
    await paneShows(session, /^agent2:\/workspace[$#]\s*$/m);
    await tmux(['send-keys', '-t', session, 'echo "home is $HOME"', 'Enter']);
    await paneShows(session, /^home is \/workspace\/\.devhome$/m);
    await tmux(['send-keys', '-t', session, 'stty size', 'Enter']);
    await paneShows(session, /^40 160$/m);
    const marker = String(1000 + (process.pid % 1000));
    await tmux(['send-keys', '-t', session, `sleep ${marker}`, 'Enter']);
    await processRuns(['sleep', marker]);
    await tmux(['send-keys', '-t', session, 'C-c']);
    // Ctrl-C reached sleep inside the container: the shell is back, and sleep died of SIGINT.
    await tmux(['send-keys', '-t', session, 'echo "inner=$?"', 'Enter']);
    await paneShows(session, /^inner=130$/m);
    await tmux(['send-keys', '-t', session, `exec sleep ${marker}1`, 'Enter']);
    await processRuns(['sleep', `${marker}1`]);
    await tmux(['send-keys', '-t', session, 'C-c']);
    await paneShows(session, /devkit-exit=130$/m); // after the echoed ^C
  });

  it('refuses a PATH that leaves the mount (exit 2), and a stopped or missing container (exit 1), with one line', async () => {
    const withProfile = (args: string[], env: Record<string, string> = {}) => devkit(['-p', ...args], { cwd: fx.workspace, env });
    expectRefused(await withProfile(['agent2', 'exec-cd', '2', '../..', 'true']), /^devkit: PATH "..\/.." leaves .*agent2\/app/);
    expectRefused(await withProfile(['agent2', 'exec-cd', '2', '/etc', 'true']), /^devkit: PATH "\/etc" leaves \/workspace/);
    expectRefused(
      await withProfile(['dev-all', 'exec-cd', '2', '.', 'true']),
      /^devkit: no dev container for profile dev-all here: start it with devkit -p dev-all up$/,
      { exitCode: 1 },
    );
    expectRefused(
      await withProfile(['agent2', 'exec-cd', '2', '.', 'true'], { DOCKER_HOST: 'unix:///nonexistent/docker.sock' }),
      /^devkit: cannot reach the Docker engine at \/nonexistent\/docker.sock/,
      { exitCode: 1 },
    );

    const ps = JSON.parse((await devkit(['-p', 'agent2', 'ps', '--json'], { cwd: fx.workspace })).stdout) as {
      containers: Array<{ service: string; name: string }>;
    };
    const dev = ps.containers.find((c) => c.service === 'dev');
    expect(dev).toBeDefined();
    await execa('docker', ['stop', '-t', '0', dev?.name ?? '']);
    expectRefused(await exec(['true']), /^devkit: the agent2 dev container is exited: start it with devkit -p agent2 up$/, { exitCode: 1 });
    expect((await devkit(['-p', 'agent2', 'up'], { cwd: fx.workspace })).exitCode).toBe(0);
    expect((await exec(['true'])).exitCode).toBe(0);
  });
});
