#!/usr/bin/env node
// What a test run must not leave behind: entries in the system temp folder,
// Docker containers, networks and volumes (the shared caches aside, which
// devkit keeps on purpose). scripts/test.sh takes a snapshot before the tests
// and checks against it after; the check prints each leftover and exits 1.
//   node scripts/leftovers.mjs snapshot FILE
//   node scripts/leftovers.mjs check FILE
// The temp folder is os.tmpdir() (TMPDIR); LEFTOVERS_LABEL=key=value looks
// only at Docker objects with that label (the script's own test uses both).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The shared Ivy/sbt/Coursier caches: external volumes every agent's stack mounts, kept between runs by design.
const KEPT_VOLUMES = /^devkit-cache-(ivy|sbt|coursier)$/;

const onlyLabelled = process.env.LEFTOVERS_LABEL ? ['--filter', `label=${process.env.LEFTOVERS_LABEL}`] : [];

function docker(args) {
  try {
    return execFileSync('docker', [...args, ...onlyLabelled], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .filter(Boolean);
  } catch {
    return null; // no engine: nothing of Docker to compare
  }
}

function snapshot() {
  return {
    temp: readdirSync(os.tmpdir()).map((name) => path.join(os.tmpdir(), name)),
    containers: docker(['ps', '-a', '--format', '{{.Names}}']),
    networks: docker(['network', 'ls', '--format', '{{.Name}}']),
    volumes: docker(['volume', 'ls', '--format', '{{.Name}}'])?.filter((name) => !KEPT_VOLUMES.test(name)) ?? null,
  };
}

const [command, file] = process.argv.slice(2);
if (file === undefined || (command !== 'snapshot' && command !== 'check')) {
  console.error('usage: leftovers.mjs snapshot|check FILE');
  process.exit(2);
}
if (command === 'snapshot') {
  writeFileSync(file, JSON.stringify(snapshot()));
} else {
  const before = JSON.parse(readFileSync(file, 'utf8'));
  const after = snapshot();
  const left = Object.entries(after).flatMap(([kind, names]) =>
    (names ?? []).filter((name) => name !== file && !(before[kind] ?? []).includes(name)).map((name) => `${kind}: ${name}`),
  );
  for (const line of left) console.error(`left behind by the tests: ${line}`);
  if (left.length > 0) console.error(`${left.length} thing(s) left behind: each test removes what it makes`);
  process.exit(left.length > 0 ? 1 : 0);
}
