import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { openTrustedDir, writeFileIn, type WriteOptions } from './safe.js';

/**
 * Writes a file devkit trusts (devkit.yml, its state, the workspace's
 * generated files) whole or not at all, through the one temp-and-rename path
 * of safe.ts (unguessable temp name, exclusive create). A file the user keeps
 * as a link (devkit.yml in a dotfiles repo) is written where the link points.
 */
export function writeFileAtomic(file: string, data: string | Buffer, options: WriteOptions = {}): void {
  const real = existsSync(file) ? realpathSync(file) : path.join(realpathSync(path.dirname(file)), path.basename(file));
  const dir = openTrustedDir(path.dirname(real));
  try {
    writeFileIn(dir, path.basename(real), data, options);
  } finally {
    dir.close();
  }
}
