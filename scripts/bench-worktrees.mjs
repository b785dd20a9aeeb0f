#!/usr/bin/env node
// Benchmark: `devkit worktrees init 16` against a shell loop of the
// `git worktree add` commands that would make the same agents, on a repo of
// 1,200 files; the disk each agent adds against the size of a checkout; and
// `devkit status` for those 16 agents against a loop of `git status` over the
// same copies. Prints ratios (absolute times on shared machines are noise) and
// exits 1 when a target is missed.
//   node scripts/bench-worktrees.mjs [--rounds N]
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEVKIT, median, numberArg, run, scratchDir, timed, verdict } from './bench-lib.mjs';

const AGENTS = 16;
const FILES = 1200;
const TIME_TARGET = 1.5;
const DISK_TARGET = 1.05;
const STATUS_TARGET = 2.0;
const ROUNDS = numberArg('--rounds', 5);

const kib = (args) => Number(run('du', ['-sk', ...args]).split('\t')[0]);

const scratch = scratchDir('devkit-bench-');
try {
  // A template repo: 1,200 source-like files in 40 packages, two commits.
  const template = path.join(scratch, 'template');
  for (let i = 0; i < FILES; i++) {
    const dir = path.join(template, 'src', `pkg${i % 40}`);
    mkdirSync(dir, { recursive: true });
    const body = Array.from({ length: 40 }, (_, line) => `  val x${line} = ${i * line} // file ${i}`).join('\n');
    writeFileSync(path.join(dir, `File${i}.scala`), `object File${i} {\n${body}\n}\n`);
  }
  run('git', ['init', '-q', '-b', 'main'], template);
  run('git', ['add', '-A'], template);
  run('git', ['commit', '-qm', 'one'], template);
  writeFileSync(path.join(template, 'README.md'), 'two\n');
  run('git', ['add', '-A'], template);
  run('git', ['commit', '-qm', 'two'], template);

  const loopTimes = [];
  const devkitTimes = [];
  const statusLoopTimes = [];
  const statusTimes = [];
  let disk = null;
  for (let round = 0; round < ROUNDS; round++) {
    const loopRoot = path.join(scratch, `loop${round}`);
    const devkitRoot = path.join(scratch, `devkit${round}`);
    for (const root of [loopRoot, devkitRoot]) run('git', ['clone', '-q', template, path.join(root, 'app')], scratch);
    const workspace = path.join(scratch, `ws${round}`);
    mkdirSync(workspace);
    run(DEVKIT, ['init', '--root', devkitRoot, '--repo', 'app'], workspace);

    const loop = `for k in $(seq 2 ${AGENTS}); do git -C app worktree add --quiet --lock --reason "devkit: agent$k" -b "agent$k/main" "agent$k/app" main || exit 1; done`;
    const primary = path.join(devkitRoot, 'app');
    const objectStore = () => run('git', ['count-objects', '-v'], primary).replace(/\n?size-garbage.*$/s, '');
    const before = { root: kib([devkitRoot]), objects: objectStore() };
    const runLoop = () => loopTimes.push(timed('bash', ['-c', loop], loopRoot));
    const runDevkit = () => devkitTimes.push(timed(DEVKIT, ['worktrees', 'init', String(AGENTS)], workspace));
    // Alternate which goes first, so neither always gets the warmer cache.
    if (round % 2 === 0) {
      runLoop();
      runDevkit();
    } else {
      runDevkit();
      runLoop();
    }

    if (disk === null) {
      // Everything the agents added: their copies, with their own .git (which borrows the shared objects), and HOMEs.
      const perAgent = (kib([devkitRoot]) - before.root) / (AGENTS - 1);
      const objectsGrew = objectStore() !== before.objects;
      const agentObjects = readdirSync(devkitRoot)
        .filter((name) => name.startsWith('agent'))
        .filter(
          (name) => !run('git', ['-c', 'safe.directory=*', 'count-objects'], path.join(devkitRoot, name, 'app')).startsWith('0 objects'),
        ).length;
      disk = { checkout: kib(['--exclude=.git', primary]), perAgent, copied: agentObjects + (objectsGrew ? 1 : 0) };
    }

    // status: devkit's row per agent against plain git status in each copy (safe.directory: the copies belong to the agents' uid).
    const copies = [primary, ...Array.from({ length: AGENTS - 1 }, (_, i) => path.join(devkitRoot, `agent${i + 2}`, 'app'))];
    const statusLoop = `for c in ${copies.map((c) => `'${c}'`).join(' ')}; do git -c safe.directory='*' -C "$c" status --porcelain >/dev/null || exit 1; done`;
    // Once each untimed: the first status makes devkit's standing view of each copy (once per agent), and warms the caches.
    timed('bash', ['-c', statusLoop], scratch);
    timed(DEVKIT, ['status'], workspace);
    for (let i = 0; i < 5; i++) {
      statusLoopTimes.push(timed('bash', ['-c', statusLoop], scratch));
      statusTimes.push(timed(DEVKIT, ['status'], workspace));
    }
    rmSync(loopRoot, { recursive: true, force: true });
    rmSync(devkitRoot, { recursive: true, force: true });
  }

  const loopMs = median(loopTimes);
  const devkitMs = median(devkitTimes);
  const timeRatio = devkitMs / loopMs;
  const diskRatio = disk.perAgent / disk.checkout;
  console.log(`worktrees: ${AGENTS - 1} agents on a ${FILES}-file repo, median of ${ROUNDS} rounds`);
  console.log(`  shell loop of git worktree add : ${loopMs.toFixed(0)} ms`);
  console.log(`  devkit worktrees init ${AGENTS}       : ${devkitMs.toFixed(0)} ms`);
  console.log(
    `  ratio devkit / git loop        : ${timeRatio.toFixed(2)}x (target <= ${TIME_TARGET}x) ${verdict(timeRatio <= TIME_TARGET)}`,
  );
  console.log(`  disk per agent                 : ${disk.perAgent.toFixed(0)} KiB against a ${disk.checkout} KiB checkout`);
  console.log(
    `  ratio agent / checkout         : ${diskRatio.toFixed(3)}x (target <= ${DISK_TARGET}x) ${verdict(diskRatio <= DISK_TARGET)}`,
  );
  console.log(
    `  objects copied for agents      : ${disk.copied === 0 ? 'none' : 'SOME'} (object store unchanged, no object in any agent's copy) ${verdict(disk.copied === 0)}`,
  );
  const statusRatio = median(statusTimes) / median(statusLoopTimes);
  console.log(`status: ${AGENTS} agents, median of ${statusTimes.length} runs`);
  console.log(`  loop of git status             : ${median(statusLoopTimes).toFixed(0)} ms`);
  console.log(`  devkit status                  : ${median(statusTimes).toFixed(0)} ms`);
  console.log(
    `  ratio devkit / git loop        : ${statusRatio.toFixed(2)}x (target <= ${STATUS_TARGET}x) ${verdict(statusRatio <= STATUS_TARGET)}`,
  );
  process.exitCode = timeRatio <= TIME_TARGET && diskRatio <= DISK_TARGET && disk.copied === 0 && statusRatio <= STATUS_TARGET ? 0 : 1;
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
