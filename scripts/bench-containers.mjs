#!/usr/bin/env node
// Benchmark, measured side by side in one run (ratios: absolute times on
// shared machines are noise):
//   devkit exec-cd K . true  against  docker exec <id> true  and  docker compose exec -T dev true
//   devkit -p agentK up for 4 agents  against  docker compose up -d of the same files
//   devkit team create with 8 members  against  8 docker compose up -d --wait of the same files, side by side
//   the memory of one idle agent's containers (docker stats)
// Needs a Docker engine and the images (devkit image build). Exits 1 when a target is missed.
//   node scripts/bench-containers.mjs [--runs N]
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { DEVKIT, initBenchRoot, median, numberArg, run, scratchDir, timed, timedTogether, verdict } from './bench-lib.mjs';

const RUNS = numberArg('--runs', 30);
const AGENTS = [2, 3, 4, 5];
const MEMBERS = 8;

const scratch = scratchDir('devkit-bench-c-');
const root = path.join(scratch, 'dev');
const workspace = path.join(scratch, 'ws');
const overlay = (k) => path.join('overlays', `agent${k}`, 'compose.override.yml');
const composeFiles = (k) => ['compose', '-f', 'compose.yml', '-f', overlay(k)];
try {
  initBenchRoot(root, workspace);
  run(DEVKIT, ['worktrees', 'init', String(Math.max(...AGENTS))], workspace);
  for (const k of AGENTS) run(DEVKIT, ['overlay', 'create', `agent${k}`], workspace);

  // up: 4 agents, devkit against compose of the same files, alternating which goes first.
  const upDevkit = [];
  const upCompose = [];
  const downAll = () => AGENTS.forEach((k) => run('docker', [...composeFiles(k), 'down', '--timeout', '0'], workspace));
  run(DEVKIT, ['-p', 'agent2', 'up'], workspace); // images and volumes exist from here on
  downAll();
  for (let round = 0; round < 3; round++) {
    const viaDevkit = () => upDevkit.push(AGENTS.reduce((sum, k) => sum + timed(DEVKIT, ['-p', `agent${k}`, 'up'], workspace), 0));
    const viaCompose = () =>
      upCompose.push(AGENTS.reduce((sum, k) => sum + timed('docker', [...composeFiles(k), 'up', '-d', '--wait'], workspace), 0));
    if (round % 2 === 0) {
      viaDevkit();
      downAll();
      viaCompose();
    } else {
      viaCompose();
      downAll();
      viaDevkit();
    }
    downAll();
  }

  // team create: 8 members from nothing (copies, HOMEs, overlays, stacks), against 8 composes of the same files
  // started side by side (the members' copies and overlays made beforehand, untimed). Destroyed after each.
  const teamDevkit = [];
  const teamCompose = [];
  const createTeam = (name) => JSON.parse(run(DEVKIT, ['team', 'create', name, '--agents', String(MEMBERS), '--json'], workspace));
  for (let round = 0; round < 3; round++) {
    const viaDevkit = () => {
      teamDevkit.push(timed(DEVKIT, ['team', 'create', `bench${round}`, '--agents', String(MEMBERS)], workspace));
      run(DEVKIT, ['team', 'destroy', `bench${round}`], workspace);
    };
    const viaCompose = async () => {
      const team = createTeam(`files${round}`);
      const members = team.members.map((member) => member.index);
      members.forEach((k) => run('docker', [...composeFiles(k), 'down', '--timeout', '0'], workspace));
      teamCompose.push(
        await timedTogether(
          members.map((k) => ['docker', [...composeFiles(k), 'up', '-d', '--wait']]),
          workspace,
        ),
      );
      run(DEVKIT, ['team', 'destroy', team.name], workspace);
    };
    if (round % 2 === 0) {
      viaDevkit();
      await viaCompose();
    } else {
      await viaCompose();
      viaDevkit();
    }
  }

  // exec: agent 2's container, the three ways interleaved.
  run(DEVKIT, ['-p', 'agent2', 'up'], workspace);
  const id = run(
    'docker',
    [
      'ps',
      '-q',
      '--filter',
      `label=devkit.root=${root}`,
      '--filter',
      'label=devkit.profile=agent2',
      '--filter',
      'label=com.docker.compose.service=dev',
    ],
    workspace,
  );
  const times = { devkit: [], docker: [], compose: [] };
  for (let i = 0; i < RUNS; i++) {
    times.devkit.push(timed(DEVKIT, ['-p', 'agent2', 'exec-cd', '2', '.', 'true'], workspace));
    times.docker.push(timed('docker', ['exec', id, 'true'], workspace));
    times.compose.push(timed('docker', [...composeFiles(2), 'exec', '-T', 'dev', 'true'], workspace));
  }

  // memory of an idle agent: its three containers.
  const stats = run('docker', [
    'stats',
    '--no-stream',
    '--format',
    '{{.Name}} {{.MemUsage}}',
    ...run('docker', ['ps', '-q', '--filter', `label=devkit.root=${root}`, '--filter', 'label=devkit.profile=agent2']).split('\n'),
  ]);
  const toMiB = (text) => {
    const [, n, unit] = /([\d.]+)\s*([KMG]i?B)/.exec(text) ?? [];
    return Number(n) * ({ KiB: 1 / 1024, MiB: 1, GiB: 1024, kB: 1 / 1000, MB: 1, GB: 1000 }[unit] ?? 0);
  };
  const memory = stats.split('\n').map((line) => [line.split(' ')[0], toMiB(line.split(' ')[1] ?? '')]);

  const [dk, de, dc] = [median(times.devkit), median(times.docker), median(times.compose)];
  const vsDocker = dk / de;
  const vsCompose = dk / dc;
  const upRatio = median(upDevkit) / median(upCompose);
  console.log(`exec, median of ${RUNS} runs each, interleaved:`);
  console.log(`  docker exec <id> true             : ${de.toFixed(0)} ms`);
  console.log(`  docker compose exec -T dev true   : ${dc.toFixed(0)} ms`);
  console.log(`  devkit -p agent2 exec-cd 2 . true : ${dk.toFixed(0)} ms`);
  console.log(`  ratio devkit / docker compose exec: ${vsCompose.toFixed(2)}x (target <= 1.0x) ${verdict(vsCompose <= 1.0)}`);
  console.log(`  ratio devkit / docker exec        : ${vsDocker.toFixed(2)}x (target <= 1.5x) ${verdict(vsDocker <= 1.5)}`);
  console.log(`up, ${AGENTS.length} agents, median of 3 rounds:`);
  console.log(`  docker compose up -d --wait       : ${median(upCompose).toFixed(0)} ms`);
  console.log(`  devkit -p agentK up               : ${median(upDevkit).toFixed(0)} ms`);
  console.log(`  ratio devkit / docker compose     : ${upRatio.toFixed(2)}x (target <= 1.2x) ${verdict(upRatio <= 1.2)}`);
  const teamRatio = median(teamDevkit) / median(teamCompose);
  console.log(`team create ${MEMBERS}, median of 3 rounds:`);
  console.log(`  ${MEMBERS} docker compose up -d --wait side by side: ${median(teamCompose).toFixed(0)} ms`);
  console.log(`  devkit team create --agents ${MEMBERS}           : ${median(teamDevkit).toFixed(0)} ms`);
  console.log(`  ratio devkit / docker compose          : ${teamRatio.toFixed(2)}x (target <= 1.3x) ${verdict(teamRatio <= 1.3)}`);
  console.log(`memory of an idle agent's containers (docker stats):`);
  for (const [name, mib] of memory) console.log(`  ${name}: ${mib.toFixed(1)} MiB`);
  console.log(`  total: ${memory.reduce((sum, [, mib]) => sum + mib, 0).toFixed(1)} MiB`);
  process.exitCode = vsCompose <= 1.0 && vsDocker <= 1.5 && upRatio <= 1.2 && teamRatio <= 1.3 ? 0 : 1;
} finally {
  // Every compose project this root made: its containers and networks (the shared cache volumes stay).
  const projects =
    spawnSync('docker', [
      'ps',
      '-a',
      '--filter',
      `label=devkit.root=${root}`,
      '--format',
      '{{.Label "com.docker.compose.project"}}',
    ]).stdout?.toString() ?? '';
  for (const project of new Set(projects.split('\n').filter(Boolean)))
    spawnSync('docker', ['compose', '-p', project, 'down', '--timeout', '0'], { stdio: 'ignore' });
  rmSync(scratch, { recursive: true, force: true });
}
