import { execa } from 'execa';
import { DevkitError, oneLine } from '../errors.js';
import { pollUntil } from '../poll.js';
import { listPids, processArgs } from '../proc.js';

/**
 * Runs `docker compose` with the given files; its own progress goes to stderr
 * unless `quiet`, as plain lines with `plain` (several composes side by side
 * would redraw over each other).
 */
export async function runCompose(options: {
  cwd: string;
  files: readonly string[];
  args: readonly string[];
  quiet: boolean;
  plain?: boolean;
  /** The docker context of the engine the project is on (a profile's engine.context); unset or null: the docker CLI's own. */
  context?: string | null;
}): Promise<string> {
  const fileArgs = options.files.flatMap((file) => ['-f', file]);
  const progress = options.quiet ? ['--progress', 'quiet'] : options.plain === true ? ['--progress', 'plain'] : [];
  // With no files, the project is named in args (-p NAME), as for a project whose files are gone.
  const child = await execa('docker', [...contextArgs(options.context), 'compose', ...progress, ...fileArgs, ...options.args], {
    cwd: options.cwd,
    reject: false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: options.quiet ? 'pipe' : 'inherit',
  });
  if (child.exitCode !== 0) {
    const detail = oneLine(child.stderr ?? '').slice(-400) || `exit ${child.exitCode}`;
    throw new DevkitError(`docker compose ${options.args.join(' ')} failed: ${detail}`);
  }
  return child.stdout;
}

/** The docker CLI's flag for an engine devkit.yml names (it wins over DOCKER_HOST, as devkit.yml does). */
export function contextArgs(context: string | null | undefined): string[] {
  return context === null || context === undefined ? [] : ['--context', context];
}

/** `docker compose config -q`: fails with compose's own words when the files do not make a valid project. */
export async function composeCheck(cwd: string, files: readonly string[]): Promise<void> {
  await runCompose({ cwd, files, args: ['config', '--quiet'], quiet: true });
}

/** The containers `docker compose up` would recreate (a new image, a changed service), by name, from compose's own dry run. */
export async function composeWouldRecreate(cwd: string, files: readonly string[], context: string | null): Promise<string[]> {
  const fileArgs = files.flatMap((file) => ['-f', file]);
  const child = await execa(
    'docker',
    [...contextArgs(context), 'compose', '--dry-run', '--progress', 'plain', ...fileArgs, 'up', '--detach'],
    {
      cwd,
      reject: false,
      stdin: 'ignore',
    },
  );
  if (child.exitCode !== 0) throw new DevkitError(`docker compose --dry-run up failed: ${oneLine(child.stderr).slice(-400)}`);
  return [...`${child.stdout}\n${child.stderr}`.matchAll(/Container (\S+)\s+Recreate$/gm)].map((match) => match[1] ?? '');
}

/**
 * Waits while some `docker compose` process still works with `file` (one a
 * killed devkit left running, say), so that nothing creates containers after
 * they were removed. Reads /proc; where there is none, returns at once.
 */
export async function waitForComposeUsing(file: string, timeoutMs = 60_000): Promise<void> {
  const busy = (): boolean =>
    (listPids() ?? []).some((pid) => {
      const args = processArgs(pid) ?? [];
      return args.includes('compose') && args.includes(file);
    });
  await pollUntil(() => (busy() ? undefined : true), { timeoutMs, intervalMs: 200 });
}
