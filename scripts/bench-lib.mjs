// Helpers the benchmark scripts share: running commands with a fixed git
// identity, timing them, and taking medians.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEVKIT = fileURLToPath(new URL('../bin/devkit', import.meta.url));

export const benchEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@localhost',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@localhost',
};

/** Runs a command to completion and returns its stdout; throws when it fails. */
export function run(cmd, args, cwd) {
  return execFileSync(cmd, args, { cwd, env: benchEnv, stdio: ['ignore', 'pipe', 'pipe'] })
    .toString()
    .trim();
}

/** Wall-clock milliseconds of one run of a command; throws when it fails. */
export function timed(cmd, args, cwd) {
  const start = process.hrtime.bigint();
  const child = spawnSync(cmd, args, { cwd, env: benchEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (child.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${child.stderr}`);
  return ms;
}

/** Wall-clock milliseconds of several commands started side by side, until the last ends; throws when one fails. */
export async function timedTogether(commands, cwd) {
  const start = process.hrtime.bigint();
  await Promise.all(
    commands.map(
      ([cmd, args]) =>
        new Promise((resolve, reject) => {
          const child = spawn(cmd, args, { cwd, env: benchEnv, stdio: ['ignore', 'ignore', 'pipe'] });
          let stderr = '';
          child.stderr.on('data', (chunk) => (stderr += chunk));
          child.on('error', reject);
          child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr}`))));
        }),
    ),
  );
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export function median(values) {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

/** The value after a flag on the command line, as a number, or the default. */
export function numberArg(flag, fallback) {
  const at = process.argv.indexOf(flag);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}

export const verdict = (ok) => (ok ? 'ok' : 'MISSED');

/** A scratch folder for one benchmark run; devkit's state for its dev roots stays in it too. */
export function scratchDir(prefix) {
  const scratch = mkdtempSync(path.join(os.tmpdir(), prefix));
  benchEnv.DEVKIT_STATE_DIR = path.join(scratch, 'state');
  return scratch;
}

/** A dev root ROOT with a repo app of one commit, and a devkit workspace WORKSPACE for it (devkit init). */
export function initBenchRoot(root, workspace) {
  const repo = path.join(root, 'app');
  mkdirSync(repo, { recursive: true });
  mkdirSync(workspace);
  run('git', ['init', '-q', '-b', 'main'], repo);
  writeFileSync(path.join(repo, 'README'), 'bench\n');
  run('git', ['add', '-A'], repo);
  run('git', ['commit', '-qm', 'bench'], repo);
  run(DEVKIT, ['init', '--root', root, '--repo', 'app'], workspace);
}
