import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBatch, runBatched } from '../src/process-batch.js';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };
const batchFolders = (): string[] => readdirSync(os.tmpdir()).filter((name) => name.startsWith('devkit-batch-'));

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
    ]);
    expect(results[0]).toEqual({ stdout: `${scratch}\n`, stderr: 'oops\n', exitCode: 3 });
    // Arguments reach the program as they are: no word splitting, no expansion by the shell.
    expect(results[1]).toEqual({ stdout: "it's|two words|$HOME|`id`|", stderr: '', exitCode: 0 });
    expect(results[2]?.stdout).toBe("a 'quoted' value/$(id)\n");
    expect(results[3]?.exitCode).toBe(127);
    expect(results[3]?.stderr).toMatch(/not found|No such file/);
    // Its output folder is gone once the results are read.
    expect(batchFolders()).toEqual(before);
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

  it('starts the programs asked for in one turn through one shell, and those of a later turn through another', async () => {
    // Each program runs in a subshell of the batch's shell: the subshell's parent is that shell.
    const shellOf = 'read -r _pid _comm _state ppid _rest < /proc/$PPID/stat; echo $ppid';
    const parent = (): Promise<string> => runBatched(env, { cwd: '/', argv: ['sh', '-c', shellOf] }).then((r) => r.stdout.trim());
    const sameTurn = await Promise.all([parent(), parent(), parent()]);
    const laterTurn = await parent();
    expect(new Set(sameTurn).size).toBe(1);
    expect(laterTurn).not.toBe(sameTurn[0]);
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
