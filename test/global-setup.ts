import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEVKIT_BIN } from './support/sandbox.js';
import { dockerAvailable } from './support/docker.js';

/**
 * Runs once before the suites: builds the stack's images (the first time
 * takes about a minute: debootstrap), so container tests share them. Without
 * an engine, CI fails here; elsewhere container suites are skipped loudly.
 */
export default async function setup(): Promise<void> {
  if (!(await dockerAvailable())) {
    if (process.env.CI)
      throw new Error('no Docker engine with Compose v2 answers: CI must run the container tests (scripts/docker-engine.sh start)');
    return; // container suites skip themselves, loudly
  }
  const workspace = mkdtempSync(path.join(os.tmpdir(), 'devkit-images-'));
  try {
    const env = { DEVKIT_STATE_DIR: path.join(workspace, 'state') };
    await execa(DEVKIT_BIN, ['init', '--root', path.join(workspace, 'root'), '--repo', 'app'], { cwd: workspace, env });
    await execa(DEVKIT_BIN, ['image', 'build'], { cwd: workspace, env, stdio: ['ignore', 'ignore', 'inherit'] });
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}
