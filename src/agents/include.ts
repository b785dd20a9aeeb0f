import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Fleet } from '../fleet/fleet.js';

/**
 * The workspace's include file, `.devkit/include` beside devkit.yml
 * (gitignore syntax): ignored files it matches are part of an agent's state
 * (a checkpoint takes them, a restore brings them back). null when there is
 * none. git evaluates its patterns (`ls-files --others --ignored
 * --exclude-from`), so devkit never reads them itself.
 */
export function includeFile(fleet: Pick<Fleet, 'workspace'>): string | null {
  const file = path.join(fleet.workspace.dir, '.devkit', 'include');
  return existsSync(file) ? file : null;
}
