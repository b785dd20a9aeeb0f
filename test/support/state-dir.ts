import { afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { removeTempDirs } from './sandbox.js';

/**
 * Runs before every test file (vitest setupFiles): devkit keeps its state in
 * the user's state folder, so each test file gets one of its own in the temp
 * folder, removed after the file. Every devkit the file runs inherits it.
 * The folders the file made with tempDir go then too.
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'devkit-state-'));
// testcontainers (helper containers) uses local images; Ryuk's cannot be pulled here: suites clean up themselves.
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
process.env.DEVKIT_STATE_DIR = dir;
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  removeTempDirs();
});
