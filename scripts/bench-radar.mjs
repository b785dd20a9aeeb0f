#!/usr/bin/env node
// Benchmark: the conflict radar. `devkit conflicts` for 8 agents, each with
// 20 changed files (half committed, half not; neighbours overlap), with no
// pair known (each copy is read again with git add; what devkit knows of a
// snapshot whose files did not change is kept), against a shell loop of
// `git merge-tree --write-tree` over the same pairs of snapshot commits; and,
// for the record, from nothing known at all. Then the radar over 15 agents,
// cold and with nothing changed, against the 2 s period of `status --watch`.
//   node scripts/bench-radar.mjs [--rounds N]
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEVKIT, median, numberArg, run, scratchDir, timed, verdict } from './bench-lib.mjs';

const FILES = 1200;
const CHANGED = 20;
const TARGET = 1.5;
const WATCH_MS = 2000;
const ROUNDS = numberArg('--rounds', 5);

const scratch = scratchDir('devkit-bench-radar-');

/** A dev root of `agents` agents (2..agents+1), each with CHANGED files changed, half of them committed. */
function fleet(name, agents) {
  const root = path.join(scratch, name);
  const primary = path.join(root, 'app');
  for (let i = 0; i < FILES; i++) {
    const dir = path.join(primary, 'src', `pkg${i % 40}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `File${i}.scala`), `object File${i} {\n  val x = ${i}\n}\n`);
  }
  run('git', ['init', '-q', '-b', 'main'], primary);
  run('git', ['add', '-A'], primary);
  run('git', ['commit', '-qm', 'one'], primary);
  const workspace = path.join(scratch, `${name}-ws`);
  mkdirSync(workspace);
  run(DEVKIT, ['init', '--root', root, '--repo', 'app'], workspace);
  run(DEVKIT, ['worktrees', 'init', String(agents + 1)], workspace);
  for (let k = 2; k <= agents + 1; k++) {
    const copy = path.join(root, `agent${k}`, 'app');
    // Agent k changes files 15k .. 15k+19: each overlaps its neighbour on 5 files.
    for (let j = 0; j < CHANGED; j++) {
      const i = 15 * k + j;
      writeFileSync(path.join(copy, 'src', `pkg${i % 40}`, `File${i}.scala`), `object File${i} {\n  val x = ${i * k} // agent ${k}\n}\n`);
      if (j === CHANGED / 2 - 1) run('git', ['-c', 'safe.directory=*', 'commit', '-qam', `agent ${k}`], copy);
    }
  }
  return { root, workspace, agents };
}

/** Throws unless the radar sees every agent of a fleet and exactly its neighbours' pairs: a fast wrong run times nothing. */
function verifyRadar({ workspace, agents }) {
  const seen = JSON.parse(run(DEVKIT, ['conflicts', '--json'], workspace));
  const neighbours = Array.from({ length: agents - 1 }, (_, i) => `${i + 2},${i + 3}`);
  if (seen.agents.length !== agents || seen.pairs.map((p) => p.agents.join()).join(' ') !== neighbours.join(' '))
    throw new Error(
      `the radar over ${agents} agents saw ${JSON.stringify(seen.agents)} and pairs ${JSON.stringify(seen.pairs.map((p) => p.agents))}`,
    );
}

function store(root) {
  const roots = path.join(benchEnvState(), 'roots');
  for (const name of readdirSync(roots)) {
    if (JSON.parse(readFileSync(path.join(roots, name, 'root.json'), 'utf8')).root === root) return path.join(roots, name);
  }
  throw new Error(`no state for ${root}`);
}

function benchEnvState() {
  return path.join(scratch, 'state');
}

try {
  const eight = fleet('eight', 8);
  const state = store(eight.root);
  const radarFile = path.join(state, 'snapshots.git', 'devkit-radar.json');
  const snapshotsFile = path.join(state, 'snapshots.git', 'devkit-snapshots.json');
  const keptIndexes = path.join(state, 'snapshots.git', 'devkit-index');
  run(DEVKIT, ['conflicts'], eight.workspace); // makes the snapshots (and warms the disk cache)
  const snapshots = Object.values(JSON.parse(readFileSync(snapshotsFile, 'utf8')).snapshots).map((s) => s.commit);
  const quarantines = readdirSync(path.join(state, 'quarantine')).map((a) => path.join(state, 'quarantine', a, 'objects'));
  const pairs = snapshots.flatMap((a, i) => snapshots.slice(i + 1).map((b) => `${a} ${b}`));
  const loop =
    `export GIT_ALTERNATE_OBJECT_DIRECTORIES='${quarantines.join(':')}'; ` +
    `for p in ${pairs.map((p) => `'${p}'`).join(' ')}; do set -- $p; ` +
    `git --git-dir='${path.join(state, 'snapshots.git')}' merge-tree --write-tree "$1" "$2" >/dev/null; [ $? -le 1 ] || exit 1; done`;
  const loopTimes = [];
  const devkitTimes = [];
  const unknownTimes = [];
  for (let round = 0; round < ROUNDS; round++) {
    loopTimes.push(timed('bash', ['-c', loop], scratch));
    rmSync(radarFile, { force: true }); // no pair known: every pair is looked at again
    devkitTimes.push(timed(DEVKIT, ['conflicts'], eight.workspace));
    for (const known of [radarFile, snapshotsFile, keptIndexes]) rmSync(known, { recursive: true, force: true });
    unknownTimes.push(timed(DEVKIT, ['conflicts'], eight.workspace));
    verifyRadar(eight);
  }

  const sixteen = fleet('sixteen', 15);
  const store16 = path.join(store(sixteen.root), 'snapshots.git');
  const known16 = ['devkit-radar.json', 'devkit-snapshots.json', 'devkit-index'].map((name) => path.join(store16, name));
  const coldTimes = [];
  const warmTimes = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const known of known16) rmSync(known, { recursive: true, force: true }); // nothing known
    coldTimes.push(timed(DEVKIT, ['conflicts'], sixteen.workspace));
    warmTimes.push(timed(DEVKIT, ['conflicts'], sixteen.workspace));
  }
  verifyRadar(sixteen);

  const ratio = median(devkitTimes) / median(loopTimes);
  console.log(`conflicts: 8 agents, ${CHANGED} changed files each (${pairs.length} pairs), median of ${ROUNDS} runs`);
  console.log(`  loop of git merge-tree         : ${median(loopTimes).toFixed(0)} ms`);
  console.log(`  devkit conflicts, no pair known: ${median(devkitTimes).toFixed(0)} ms`);
  console.log(`  ratio devkit / merge-tree loop : ${ratio.toFixed(2)}x (target <= ${TARGET}x) ${verdict(ratio <= TARGET)}`);
  const unknownRatio = median(unknownTimes) / median(loopTimes);
  console.log(
    `  devkit conflicts, nothing known: ${median(unknownTimes).toFixed(0)} ms (${unknownRatio.toFixed(2)}x, every copy hashed afresh)`,
  );
  const cold = median(coldTimes);
  const warm = median(warmTimes);
  console.log(
    `radar: ${sixteen.agents} agents and the primary clone, median of ${ROUNDS} runs, against the ${WATCH_MS} ms of status --watch`,
  );
  console.log(
    `  devkit conflicts, nothing known: ${cold.toFixed(0)} ms (${((cold / WATCH_MS) * 100).toFixed(0)}% of the period) ${verdict(cold <= WATCH_MS)}`,
  );
  console.log(
    `  devkit conflicts, nothing new  : ${warm.toFixed(0)} ms (${((warm / WATCH_MS) * 100).toFixed(0)}% of the period) ${verdict(warm <= WATCH_MS)}`,
  );
  process.exitCode = ratio <= TARGET && cold <= WATCH_MS && warm <= WATCH_MS ? 0 : 1;
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
