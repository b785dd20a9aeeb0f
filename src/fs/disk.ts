import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * Bytes a folder takes on disk, as `du -s --block-size=1` counts them:
 * allocated blocks of every file and folder, each inode once (hard links),
 * not following symlinks or other mounts. `skip` names entries of the top
 * folder to leave out (the shared .git, a HOME reported on its own).
 */
export function diskUsage(dir: string, skip: readonly string[] = []): number {
  const seen = new Set<string>();
  let total = 0;
  let device: number | null = null;
  const walk = (current: string, top: boolean): void => {
    let stat;
    try {
      stat = lstatSync(current);
    } catch {
      return; // vanished meanwhile
    }
    if (device === null) device = stat.dev;
    if (stat.dev !== device) return; // another mount (a container's bind mount point)
    const key = `${stat.dev}:${stat.ino}`;
    if (seen.has(key)) return;
    seen.add(key);
    total += stat.blocks * 512;
    if (!stat.isDirectory()) return;
    let names: string[];
    try {
      names = readdirSync(current);
    } catch {
      return;
    }
    for (const name of names) if (!(top && skip.includes(name))) walk(path.join(current, name), false);
  };
  walk(dir, true);
  return total;
}
