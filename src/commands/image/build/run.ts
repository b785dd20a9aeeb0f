import type { CommandContext } from '../../../agents/devroot.js';
import { loadWorkspace } from '../../../config/config.js';
import { buildStackImages, type BuiltImage } from '../../../docker/images.js';
import { processContext, type CommandHost } from '../../context.js';

export async function runImageBuild(context: CommandContext): Promise<BuiltImage[]> {
  const { config } = loadWorkspace(context.cwd, context.env);
  return buildStackImages({ baseImage: config.baseImage, io: context.io });
}

export async function main(flags: { json?: boolean }, host: CommandHost): Promise<void> {
  const context = processContext(flags);
  const images = await runImageBuild(context);
  if (flags.json) context.io.json({ images });
  for (const built of images) context.io.out(`${built.tag}\t${built.id.slice(7, 19)}\t${built.built ? 'built' : 'up to date'}`);
  host.setExitCode(0);
}
