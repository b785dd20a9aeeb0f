import type { Command } from 'commander';
import { loadWorkspace } from '../../config/config.js';
import type { CommandContext } from '../../agents/devroot.js';
import { buildStackImages, type BuiltImage } from '../../docker/images.js';
import { processContext, withJsonOption, type CommandHost } from '../context.js';

export async function runImageBuild(context: CommandContext): Promise<BuiltImage[]> {
  const { config } = loadWorkspace(context.cwd, context.env);
  return buildStackImages({ baseImage: config.baseImage, io: context.io });
}

export function registerImage(program: Command, host: CommandHost): void {
  const image = program.command('image').description("the stack's images");
  withJsonOption(
    image.command('build').description('build every image the stack needs (dev, proxy, dns), offline; returns at once when they are up to date'),
  ).action(async (flags: { json?: boolean }) => {
    const context = processContext(flags);
    const images = await runImageBuild(context);
    if (flags.json) context.io.json({ images });
    for (const built of images) context.io.out(`${built.tag}\t${built.id.slice(7, 19)}\t${built.built ? 'built' : 'up to date'}`);
    host.setExitCode(0);
  });
}
