import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { Io } from '../cli/io.js';
import { startProgress } from '../cli/progress.js';
import { DevkitError } from '../errors.js';

/**
 * Installs npm CLIs on the host into `prefix` (as `npm install --global
 * --prefix`: bin/ and lib/node_modules/), for the image build to copy in
 * whole; returns the commands they put in bin/.
 */
export async function installNpmClis(specs: readonly string[], prefix: string, io: Io): Promise<string[]> {
  mkdirSync(prefix, { recursive: true });
  const progress = startProgress(io, `installing ${specs.join(', ')} from npm`);
  const result = await execa(
    'npm',
    ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', '--no-update-notifier', ...specs],
    {
      all: true,
      reject: false,
      stdin: 'ignore',
      // The prefix is the one above, not one an npm script that runs devkit would pass down.
      env: { npm_config_prefix: prefix, npm_config_global: 'true' },
    },
  ).catch((error: unknown) => {
    throw new DevkitError(`image.npm needs npm on the host: ${String(error)}`);
  });
  progress.done(result.exitCode === 0 ? 'done' : 'failed');
  if (result.exitCode !== 0) {
    const lines = result.all.split('\n').filter((line) => line.includes('ERR!') || line.startsWith('npm error'));
    throw new DevkitError(`npm install of image.npm failed: ${lines.slice(0, 3).join(' | ') || `exit ${result.exitCode}`}`);
  }
  try {
    return readdirSync(path.join(prefix, 'bin')).sort();
  } catch {
    return [];
  }
}
