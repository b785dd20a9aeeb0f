import { runBatch } from '../process-batch.js';

/**
 * Bytes each folder takes on disk, as `du -s --block-size=1` counts them (it
 * is du): allocated blocks of every file and folder, each inode once,
 * following no link and crossing into no other mount (-x: a container's mount
 * point). `skip` names folders to leave out (the shared .git and the HOME in
 * agent 1's copy). One du per request, started through devkit's shell
 * (process-batch.ts); a folder that is missing counts 0.
 */
export interface DiskRequest {
  dirs: readonly string[];
  /** Folders under `dirs` to leave out. */
  skip?: readonly string[];
}

/** Bytes each requested folder takes (see above), all asked at once. A folder named twice counts once. */
export async function diskUsages(env: Readonly<Record<string, string>>, requests: readonly DiskRequest[]): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  // One du per request: status runs them beside a git per agent and its own reading of every copy, and more du
  // side by side only took CPU from those (measured: one du for 15 agents finished sooner than four).
  const calls = requests.map(({ dirs, skip = [] }) => {
    for (const dir of dirs) sizes.set(dir, 0);
    return { cwd: '/', argv: ['du', '-s', '-x', '--block-size=1', ...skip.map((dir) => `--exclude=${dir}`), '--', ...dirs] };
  });
  for (const { stdout } of await runBatch(env, calls)) {
    for (const line of stdout.split('\n')) {
      const tab = line.indexOf('\t');
      if (tab > 0) sizes.set(line.slice(tab + 1), Number(line.slice(0, tab)));
    }
  }
  return sizes;
}
