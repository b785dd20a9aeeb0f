import { existsSync } from 'node:fs';
import path from 'node:path';

export const CONFIG_FILE = 'devkit.yml';

/** The nearest devkit.yml in `start` or a parent directory, or null. Needs no YAML parser, for fast paths. */
export function findConfigFile(start: string): string | null {
  let dir = path.resolve(start);
  for (;;) {
    const candidate = path.join(dir, CONFIG_FILE);
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}
