import { execa } from 'execa';
import type { Io } from '../cli/io.js';
import { followLines, startProgress } from '../cli/progress.js';
import { DevkitError } from '../errors.js';

/** One `docker build`. */
export interface BuildRequest {
  /** The build context folder. */
  context: string;
  /** The Dockerfile (absolute). */
  dockerfile: string;
  tag: string;
  labels: Record<string, string>;
  buildArgs: Record<string, string>;
  /** 'none' for devkit's own layers, which copy in what the host fetched; the user's Dockerfile builds as docker would. */
  network: 'none' | 'default';
  /** What the progress line says. */
  label: string;
}

/**
 * Runs `docker build` (the CLI: it honours .dockerignore and the user's
 * builder settings), showing its steps as progress; a failure names the
 * build's last lines.
 */
export async function dockerBuild(request: BuildRequest, io: Io): Promise<void> {
  const args = [
    'build',
    '--file',
    request.dockerfile,
    '--tag',
    request.tag,
    ...Object.entries(request.labels).flatMap(([key, value]) => ['--label', `${key}=${value}`]),
    ...Object.entries(request.buildArgs).flatMap(([key, value]) => ['--build-arg', `${key}=${value}`]),
    ...(request.network === 'none' ? ['--network', 'none'] : []),
    request.context,
  ];
  const progress = startProgress(io, request.label);
  const child = execa('docker', args, { all: true, reject: false, stdin: 'ignore' });
  const tail = followLines(child.all, progress, 3);
  const result = await child;
  if (result.exitCode !== 0) {
    progress.done('failed');
    throw new DevkitError(`docker build of ${request.tag} failed (exit ${result.exitCode}): ${tail.join(' | ')}`);
  }
  progress.done('done');
}
