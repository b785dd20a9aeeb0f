import type { CommandContext } from '../../../cli/context.js';
import { loadWorkspace } from '../../../config/config.js';
import { connectEngine } from '../../../docker/engine-api.js';
import { buildStackImages } from '../../../docker/images.js';

export async function run(flags: { json?: boolean }, context: CommandContext): Promise<number> {
  const { config } = await loadWorkspace(context.cwd, context.env);
  const images = await buildStackImages({
    baseImage: config.baseImage,
    io: context.io,
    api: await connectEngine(context.env),
    env: context.env,
  });
  if (flags.json) context.io.json({ images });
  for (const built of images) context.io.out(`${built.tag}\t${built.id.slice(7, 19)}\t${built.built ? 'built' : 'up to date'}`);
  return 0;
}
