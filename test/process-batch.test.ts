import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { runBatch, runBatched } from '../src/process-batch.js';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };
const batchFolders = (): string[] => readdirSync(os.tmpdir()).filter((name) => name.startsWith('devkit-batch-'));

async function waitFor(condition: () => boolean): Promise<void> {
  for (let tries = 0; !condition(); tries++) {
    if (tries > 100) throw new Error('the condition did not come true in 10 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('process-batch: programs side by side through one shell', () => {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'batch-test-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("gives each program's output, errors and exit code, in order, run in its folder with its own variables", async () => {
    const before = batchFolders();
    const results = await runBatch(env, [
      { cwd: scratch, argv: ['sh', '-c', 'pwd; echo oops >&2; exit 3'] },
      { cwd: '/', argv: ['printf', '%s|', "it's", 'two words', '$HOME', '`id`'] },
      { cwd: '/', argv: ['sh', '-c', 'echo "$ONE/$TWO"'], env: { ONE: "a 'quoted' value", TWO: '$(id)' } },
      { cwd: '/', argv: ['/nonexistent/program'] },
      { cwd: '/', argv: ['printf', '[%s]', 'two\nlines\n'] },
      { cwd: '/', argv: ['cat'] },
    ]);
    expect(results[0]).toEqual({ stdout: `${scratch}\n`, stderr: 'oops\n', exitCode: 3 });
    // Arguments reach the program as they are: no word splitting, no expansion by the shell.
    expect(results[1]).toEqual({ stdout: "it's|two words|$HOME|`id`|", stderr: '', exitCode: 0 });
    expect(results[2]?.stdout).toBe("a 'quoted' value/$(id)\n");
    expect(results[3]?.exitCode).toBe(127);
    expect(results[3]?.stderr).toMatch(/not found|No such file/);
    // A newline inside an argument reaches the program (the shell reads its jobs line by line).
    expect(results[4]?.stdout).toBe('[two\nlines\n]');
    // No program reads the shell's stdin, where its jobs come from: cat ends at once, with nothing.
    expect(results[5]).toEqual({ stdout: '', stderr: '', exitCode: 0 });
    // Its shell removes its output folder once nothing more is asked.
    await waitFor(() => batchFolders().filter((name) => !before.includes(name)).length === 0);
  });

  it.each([
    ['an argument with a NUL byte', { cwd: '/', argv: ['echo', 'a\0b'] }, /NUL/],
    [
      'a variable name the shell would not take',
      { cwd: '/', argv: ['true'], env: { 'A=B; touch x': '1' } },
      /not an environment variable name/,
    ],
  ])('refuses a batch holding %s, before running any of it', async (_what, bad, message) => {
    const marker = path.join(scratch, 'ran');
    await expect(runBatch(env, [{ cwd: '/', argv: ['touch', marker] }, bad])).rejects.toThrow(message);
    expect(existsSync(marker)).toBe(false);
  });

  it("kills what is still running at the batch's deadline (code 124), programs it started included, and keeps what finished", async () => {
    const nap = `sleep 30.${String(process.pid).padStart(6, '0')}`; // a command line of its own, to look for afterwards
    const started = Date.now();
    const [slow, fast] = await runBatch(env, [
      { cwd: '/', argv: ['sh', '-c', `${nap} && echo woke; :`], timeoutMs: 1000 },
      { cwd: '/', argv: ['echo', 'quick'] },
    ]);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(slow).toEqual({ stdout: '', stderr: 'timed out after 1 s', exitCode: 124 });
    expect(fast).toEqual({ stdout: 'quick\n', stderr: '', exitCode: 0 });
    // The sleep the shell started is gone too, not left to run on.
    const { execFileSync } = await import('node:child_process');
    expect(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n')).not.toContain(nap);
  });

  it('starts a program the moment it is asked for, through the shell already running others, and a new shell once all are done', async () => {
    // Each program runs in a subshell of the batch's shell: the subshell's parent is that shell.
    const shellOf = 'read -r _pid _comm _state ppid _rest < /proc/$PPID/stat; echo $ppid';
    const parent = (): Promise<string> => runBatched(env, { cwd: '/', argv: ['sh', '-c', shellOf] }).then((r) => r.stdout.trim());
    const marker = path.join(scratch, 'asked-later');
    const waiting = runBatched(env, { cwd: '/', argv: ['sh', '-c', `while [ ! -e '${marker}' ]; do sleep 0.05; done; ${shellOf}`] });
    // Asked for while the first runs, in later turns of the event loop: it runs at once, in the same shell.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const joined = await parent();
    writeFileSync(marker, '');
    expect((await waiting).stdout.trim()).toBe(joined);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await parent()).not.toBe(joined);
  });

  it.each([
    ['killed (SIGKILL to devkit alone)', (pid: number) => process.kill(pid, 'SIGKILL')],
    ['stopped with Ctrl-C (SIGINT to its whole process group)', (pid: number) => process.kill(-pid, 'SIGINT')],
  ])('leaves no output folder behind when devkit is %s while its programs run', async (_how, stop) => {
    // The module as devkit ships it, run by a node of its own that is then stopped.
    const bundle = path.join(scratch, 'process-batch.mjs');
    buildSync({
      entryPoints: ['src/process-batch.ts'],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: bundle,
      logLevel: 'silent',
    });
    const before = batchFolders();
    const script = [
      `const { runBatched } = await import(${JSON.stringify(bundle)});`,
      "runBatched(process.env, { cwd: '/', argv: ['sleep', '1'] });",
      "console.log('asked');",
      'setInterval(() => {}, 1000);',
    ].join(' ');
    // A process group of its own, as a command run from a terminal has.
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    await new Promise((resolve) => child.stdout.once('data', resolve));
    const made = batchFolders().filter((name) => !before.includes(name));
    expect(made).toHaveLength(1);
    stop(child.pid ?? 0);
    await new Promise((resolve) => child.once('exit', resolve));
    await waitFor(() => !batchFolders().includes(made[0] ?? ''));
  });

  it('fails only the call that cannot run when calls are gathered', async () => {
    const [bad, good] = await Promise.allSettled([
      runBatched(env, { cwd: '/', argv: ['echo', 'a\0b'] }),
      runBatched(env, { cwd: '/', argv: ['echo', 'fine'] }),
    ]);
    expect(bad.status).toBe('rejected');
    expect(good).toEqual({ status: 'fulfilled', value: { stdout: 'fine\n', stderr: '', exitCode: 0 } });
  });
});
