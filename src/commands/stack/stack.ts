import type { Command } from 'commander';
import { openDevRoot, withDevRootLock, type CommandContext, type DevRoot } from '../../agents/devroot.js';
import { dockerClient, ensureEngine } from '../../docker/images.js';
import { runCompose } from '../../stack/compose.js';
import { stackContainers, type StackContainer } from '../../stack/containers.js';
import { prepareStack } from '../../stack/prepare.js';
import { resolveProfile, type Profile } from '../../stack/profile.js';
import { processContext, withJsonOption, type CommandHost } from '../context.js';
import { formatTable } from '../worktrees/list.js';

export interface StackOptions {
  profile?: string;
  json?: boolean;
}

async function containersOf(devRoot: DevRoot, profile: string | undefined): Promise<StackContainer[]> {
  const docker = dockerClient();
  await ensureEngine(docker);
  return stackContainers(docker, { root: devRoot.config.root, profile });
}

/** `up`: images, overlay and .env under the repo lock, then compose up outside it, so agents start in parallel. */
export async function runUp(options: StackOptions, context: CommandContext): Promise<{ profile: Profile; containers: StackContainer[] }> {
  const devRoot = await openDevRoot(context);
  const profile = await resolveProfile(devRoot, options.profile);
  await withDevRootLock(devRoot, context, `-p ${profile.name} up`, () => prepareStack(devRoot, profile, context.io));
  await runCompose({ cwd: devRoot.workspace.dir, files: profile.files, args: ['up', '--detach', '--wait'], quiet: options.json === true });
  return { profile, containers: await containersOf(devRoot, profile.name) };
}

export async function runDown(options: StackOptions & { volumes?: boolean }, context: CommandContext): Promise<{ profile: Profile }> {
  const devRoot = await openDevRoot(context);
  const profile = await resolveProfile(devRoot, options.profile);
  // The shared caches are external volumes: --volumes removes only this project's own.
  const args = ['down', ...(options.volumes === true ? ['--volumes'] : [])];
  await runCompose({ cwd: devRoot.workspace.dir, files: profile.files, args, quiet: options.json === true });
  return { profile };
}

export async function runPs(options: StackOptions, context: CommandContext): Promise<StackContainer[]> {
  const devRoot = await openDevRoot(context);
  // Without -p, every profile of this dev root.
  const profile = options.profile === undefined ? undefined : (await resolveProfile(devRoot, options.profile)).name;
  return containersOf(devRoot, profile);
}

function printContainers(context: CommandContext, containers: StackContainer[]): void {
  const rows = containers.map((c) => [c.profile, c.service, c.state, c.status, c.name]);
  for (const line of formatTable(['PROFILE', 'SERVICE', 'STATE', 'STATUS', 'CONTAINER'], rows)) context.io.out(line);
}

export function registerStack(program: Command, host: CommandHost): void {
  const profileOf = (): string | undefined => program.opts<{ profile?: string }>().profile;
  withJsonOption(program.command('up').description("start the profile's stack: builds missing images, writes a missing overlay, waits until it runs")).action(
    async (flags: { json?: boolean }) => {
      const context = processContext(flags);
      const result = await runUp({ ...flags, profile: profileOf() }, context);
      if (flags.json) context.io.json(result);
      printContainers(context, result.containers);
      host.setExitCode(0);
    },
  );
  withJsonOption(
    program.command('down').description("stop and remove the profile's containers; volumes are kept unless --volumes").option('--volumes', "also remove the project's own volumes (never the shared caches)"),
  ).action(async (flags: { json?: boolean; volumes?: boolean }) => {
    const context = processContext(flags);
    const result = await runDown({ ...flags, profile: profileOf() }, context);
    if (flags.json) context.io.json(result);
    context.io.log(`${result.profile.project} is down`);
    host.setExitCode(0);
  });
  withJsonOption(program.command('ps').description("each agent's containers and their state (all profiles without -p)")).action(async (flags: { json?: boolean }) => {
    const context = processContext(flags);
    const containers = await runPs({ ...flags, profile: profileOf() }, context);
    if (flags.json) context.io.json({ containers });
    printContainers(context, containers);
    host.setExitCode(0);
  });
}
