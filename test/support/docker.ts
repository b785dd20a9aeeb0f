import { execa } from 'execa';
import { projectPrefix } from '../../src/stack/project-names.js';
import { execFileSync } from 'node:child_process';
import { describe } from 'vitest';

/** True when a Docker engine with Compose v2 answers. */
export async function dockerAvailable(): Promise<boolean> {
  const info = await execa('docker', ['compose', 'version'], { reject: false });
  const engine = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], { reject: false });
  return info.exitCode === 0 && engine.exitCode === 0;
}

/**
 * describe for suites that need the engine. Under CI a missing engine is a
 * failure (global-setup.ts throws first); elsewhere the suite is skipped, and
 * said so loudly.
 */
export const describeWithDocker: typeof describe = (() => {
  try {
    execFileSync('docker', ['compose', 'version'], { stdio: 'ignore' });
    execFileSync('docker', ['info'], { stdio: 'ignore' });
    return describe;
  } catch {
    if (process.env.CI)
      throw new Error('no Docker engine with Compose v2 answers: CI must run the container tests (scripts/docker-engine.sh start)');
    process.stderr.write('\n*** SKIPPED: tests that need a Docker engine (none answers here); CI runs them ***\n\n');
    return describe.skip;
  }
})() as typeof describe;

/**
 * Removes every compose project this dev root made: containers and networks
 * (shared cache volumes stay). Projects are found by their containers, and by
 * networks named after the root's project prefix, which a failed up can leave
 * without containers.
 */
export async function removeStacks(root: string, repo = 'app'): Promise<void> {
  const prefix = projectPrefix({ root, repo });
  const listed = await execa(
    'docker',
    ['ps', '-a', '--filter', `label=devkit.root=${root}`, '--format', '{{.Label "com.docker.compose.project"}}'],
    { reject: false },
  );
  const networks = await execa(
    'docker',
    ['network', 'ls', '--filter', 'label=com.docker.compose.project', '--format', '{{.Label "com.docker.compose.project"}}'],
    { reject: false },
  );
  const projects = [
    ...new Set(
      [...listed.stdout.split('\n'), ...networks.stdout.split('\n').filter((project) => project.startsWith(`${prefix}-`))].filter(Boolean),
    ),
  ];
  await Promise.all(projects.map((project) => execa('docker', ['compose', '-p', project, 'down', '--timeout', '1'], { reject: false })));
  // The dev root's own images (devkit.yml's image section), once no container runs them.
  const images = await execa('docker', ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', `devkit/dev-${prefix}`], { reject: false });
  const tags = images.stdout.split('\n').filter(Boolean);
  if (tags.length > 0) await execa('docker', ['image', 'rm', ...tags], { reject: false });
}

export async function docker(args: readonly string[]): Promise<string> {
  return (await execa('docker', args)).stdout.trim();
}

/** Ids (one per line) of this dev root's containers of a profile: one service's, or running ones only, when asked. */
export function profileContainers(root: string, profile: string, only: { service?: string; running?: boolean } = {}): Promise<string> {
  const filters = [
    `label=devkit.root=${root}`,
    `label=devkit.profile=${profile}`,
    ...(only.service === undefined ? [] : [`label=com.docker.compose.service=${only.service}`]),
    ...(only.running === true ? ['status=running'] : []),
  ];
  return docker(['ps', '-q', ...filters.flatMap((filter) => ['--filter', filter])]);
}
