#!/usr/bin/env node
// Benchmark of an agent on a remote engine: a second engine on this machine
// (scripts/second-engine.sh, reached over TCP only, through a docker context),
// agent 2 placed there by devkit.yml (agents.agent2.engine). Measured side by side in one run:
//   devkit -p agent2 exec-cd 2 . true  against  docker -H tcp://... exec <id> true on the same container
//     (and, for reference, the same pair for agent 3 on the local engine: what the remote path adds, apart from Node's start)
//   devkit sync 2 of an agent holding 100 new commits (made in its container beforehand, untimed)
// Needs root (the second engine), a Docker engine and the images (devkit image build). Exits 1 when a target is missed.
//   node scripts/bench-remote.mjs [--runs N]
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEVKIT, initBenchRoot, benchEnv, median, numberArg, run, scratchDir, timed, verdict } from './bench-lib.mjs';

const RUNS = numberArg('--runs', 30);
const SYNC_ROUNDS = 3;
const COMMITS = 100;
const SECOND_ENGINE = fileURLToPath(new URL('./second-engine.sh', import.meta.url));

if (process.getuid?.() !== 0) {
  console.error('bench-remote: skipped: the second engine (scripts/second-engine.sh) needs root');
  process.exit(0);
}

const scratch = scratchDir('devkit-bench-r-');
const engineDir = path.join(scratch, 'engine');
const root = path.join(scratch, 'dev');
const workspace = path.join(scratch, 'ws');
try {
  const host = run(SECOND_ENGINE, ['start', engineDir], scratch);
  // devkit and the docker CLI as a user would have them: this machine's engine by default, the second one by its context.
  const dockerConfig = path.join(scratch, 'docker-config');
  mkdirSync(dockerConfig);
  for (const key of ['DOCKER_HOST', 'DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH']) delete benchEnv[key];
  benchEnv.DOCKER_CONFIG = dockerConfig;
  const context = 'devkit-bench-engine2';
  run('docker', ['context', 'create', context, '--docker', `host=${host}`], scratch);

  initBenchRoot(root, workspace);
  appendFileSync(path.join(workspace, 'devkit.yml'), `agents:\n  agent2:\n    engine: ${context}\n`);
  run(DEVKIT, ['worktrees', 'init', '3'], workspace);
  run(DEVKIT, ['-p', 'agent2', 'up'], workspace); // images copied and the copy seeded: untimed
  run(DEVKIT, ['-p', 'agent3', 'up'], workspace);
  const devContainer = (hostArgs, profile) =>
    run(
      'docker',
      [
        ...hostArgs,
        'ps',
        '-q',
        '--filter',
        `label=devkit.root=${root}`,
        '--filter',
        `label=devkit.profile=${profile}`,
        '--filter',
        'label=com.docker.compose.service=dev',
      ],
      workspace,
    );
  const [remoteId, localId] = [devContainer(['-H', host], 'agent2'), devContainer([], 'agent3')];

  // exec over TCP: devkit against the docker CLI on the same container; the local pair beside it; all interleaved.
  const times = { devkit: [], docker: [], devkitLocal: [], dockerLocal: [] };
  for (let i = 0; i < RUNS; i++) {
    times.devkit.push(timed(DEVKIT, ['-p', 'agent2', 'exec-cd', '2', '.', 'true'], workspace));
    times.docker.push(timed('docker', ['-H', host, 'exec', remoteId, 'true'], workspace));
    times.devkitLocal.push(timed(DEVKIT, ['-p', 'agent3', 'exec-cd', '3', '.', 'true'], workspace));
    times.dockerLocal.push(timed('docker', ['exec', localId, 'true'], workspace));
  }

  // sync: each round, 100 new commits in the copy on the second engine, then one devkit sync 2.
  const syncs = [];
  for (let round = 0; round < SYNC_ROUNDS; round++) {
    const script = `for i in $(seq 1 ${COMMITS}); do echo "${round} $i" >> bench.txt; git add bench.txt; git commit -qm "bench ${round} $i"; done`;
    run(DEVKIT, ['-p', 'agent2', 'exec-cd', '2', '.', 'sh', '-c', script], workspace);
    syncs.push(timed(DEVKIT, ['sync', '2'], workspace));
  }
  const count = run('git', ['rev-list', '--count', 'agent2/main'], path.join(root, 'app'));
  if (Number(count) !== 1 + SYNC_ROUNDS * COMMITS)
    throw new Error(`agent2/main has ${count} commits after the syncs, not ${1 + SYNC_ROUNDS * COMMITS}`);

  const [dk, de, lk, le] = [times.devkit, times.docker, times.devkitLocal, times.dockerLocal].map(median);
  const ratio = dk / de;
  console.log(`exec on a remote engine (TCP), median of ${RUNS} runs each, interleaved:`);
  console.log(`  docker -H tcp://... exec <id> true : ${de.toFixed(0)} ms`);
  console.log(`  devkit -p agent2 exec-cd 2 . true  : ${dk.toFixed(0)} ms`);
  console.log(`  ratio devkit / docker exec         : ${ratio.toFixed(2)}x (target <= 1.5x) ${verdict(ratio <= 1.5)}`);
  console.log(
    `  the same on the local engine       : ${lk.toFixed(0)} ms / ${le.toFixed(0)} ms = ${(lk / le).toFixed(2)}x (for reference)`,
  );
  console.log(`devkit sync 2 of ${COMMITS} new commits on a remote engine, median of ${SYNC_ROUNDS} rounds:`);
  console.log(`  devkit sync 2                      : ${median(syncs).toFixed(0)} ms (${syncs.map((ms) => ms.toFixed(0)).join(', ')})`);
  process.exitCode = ratio <= 1.5 ? 0 : 1;
} finally {
  // Everything on the second engine goes with it; nothing of this root runs on the local one, but a failed run may leave some.
  spawnSync(SECOND_ENGINE, ['destroy', engineDir], { stdio: 'ignore' });
  const projects =
    spawnSync('docker', ['ps', '-a', '--filter', `label=devkit.root=${root}`, '--format', '{{.Label "com.docker.compose.project"}}'], {
      env: { ...process.env, DOCKER_HOST: '', DOCKER_CONTEXT: '' },
    }).stdout?.toString() ?? '';
  for (const project of new Set(projects.split('\n').filter(Boolean)))
    spawnSync('docker', ['compose', '-p', project, 'down', '--timeout', '0'], { stdio: 'ignore' });
  rmSync(scratch, { recursive: true, force: true });
}
