import { runBatch } from '../process-batch.js';

/**
 * Bytes each folder takes on disk, as `du -s --block-size=1` counts them (it
 * is du): allocated blocks of every file and folder, each inode once,
 * following no link and crossing into no other mount (-x: a container's mount
 * point). `skip` names folders to leave out (the shared .git and the HOME in
 * agent 1's copy). A few du processes side by side, started at once by one
 * shell (process-batch.ts); a folder that is missing counts 0.
 */
export interface DiskRequest {
  dirs: readonly string[];
  /** Folders under `dirs` to leave out. */
  skip?: readonly string[];
}

/** Bytes each requested folder takes (see above), all asked at once. A folder named twice counts once. */
export async function diskUsages(env: Readonly<Record<string, string>>, requests: readonly DiskRequest[]): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  // A few du side by side per request: status runs them beside a git per agent, and one du alone would finish last.
  // Folders go round-robin in pairs (an agent's copy and its HOME are passed side by side) so each du gets its share of copies.
  const calls = requests.flatMap(({ dirs, skip = [] }) => {
    for (const dir of dirs) sizes.set(dir, 0);
    const shares = Array.from({ length: Math.min(4, Math.ceil(dirs.length / 2)) }, (_, b) =>
      dirs.filter((_dir, i) => Math.floor(i / 2) % 4 === b),
    );
    return shares.map((share) => ({
      cwd: '/',
      argv: ['du', '-s', '-x', '--block-size=1', ...skip.map((dir) => `--exclude=${dir}`), '--', ...share],
    }));
  });
  for (const { stdout } of await runBatch(env, calls)) {
    for (const line of stdout.split('\n')) {
      const tab = line.indexOf('\t');
      if (tab > 0) sizes.set(line.slice(tab + 1), Number(line.slice(0, tab)));
    }
  }
  return sizes;
}
