import { spawnSync } from 'node:child_process';
import { afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { removeTempDirs } from './sandbox.js';

/**
 * Runs before every test file (vitest setupFiles): devkit keeps its state in
 * the user's state folder, so each test file gets one of its own in the temp
 * folder, removed after the file. Every devkit the file runs inherits it.
 * The folders the file made with tempDir go then too, and so does the file's
 * own tmux server.
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'devkit-state-'));
// A tmux server of the file's own (its socket in this folder): never the user's, whose sessions and environment are theirs.
const tmuxDir = mkdtempSync(path.join(os.tmpdir(), 'devkit-tmux-'));
process.env.TMUX_TMPDIR = tmuxDir;
delete process.env.TMUX;
// testcontainers (helper containers) uses local images; Ryuk's cannot be pulled here: suites clean up themselves.
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
process.env.DEVKIT_STATE_DIR = dir;
afterAll(() => {
  spawnSync('tmux', ['kill-server'], { stdio: 'ignore' });
  rmSync(tmuxDir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  removeTempDirs();
});
