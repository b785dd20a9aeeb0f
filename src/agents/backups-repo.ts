import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Fleet } from '../fleet/fleet.js';
import { Git } from '../git/git.js';

/**
 * devkit's backups repository (the state folder): removal backups,
 * checkpoints and remote agents' synced work, as refs. Apart from backup.ts,
 * which makes backups, so that what only reads them loads no tar or execa.
 */

export function timestamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, ''); // 20261121T191200.123Z: a valid ref name component
}

/** The backups repository: made on first use, borrowing the shared repo's objects. */
export async function backupsRepo(fleet: Fleet): Promise<Git> {
  const dir = fleet.state.backupsRepo;
  const git = new Git(fleet.git, fleet.state.dir, [`--git-dir=${dir}`]);
  if (!existsSync(path.join(dir, 'HEAD'))) {
    await new Git(fleet.git, fleet.state.dir).run(['init', '--quiet', '--bare', dir]);
    writeFileSync(path.join(dir, 'objects', 'info', 'alternates'), `${path.join(fleet.shared.gitDir, 'objects')}\n`);
    await git.run(['config', 'gc.auto', '0']);
  }
  return git;
}
