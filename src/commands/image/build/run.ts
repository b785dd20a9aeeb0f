import type { CommandContext } from '../../../cli/context.js';
import { loadWorkspace } from '../../../config/config.js';
import { connectEngine } from '../../../docker/engine-api.js';
import { buildStackImages } from '../../../docker/images.js';
import { ensureWorkspaceImage, workspaceImage } from '../../../image/workspace-image.js';
import { projectPrefix } from '../../../stack/project-names.js';

export async function run(flags: { json?: boolean }, context: CommandContext): Promise<number> {
  const { config } = await loadWorkspace(context.cwd, context.env);
  const api = await connectEngine(context.env);
  const images = await buildStackImages({ baseImage: config.baseImage, io: context.io, api, env: context.env });
  const own = await ensureWorkspaceImage(config, workspaceImage(config, projectPrefix(config)), { api, io: context.io, env: context.env });
  const ownImage = await api.inspectImage(own.tag);
  const all = [
    ...images,
    ...(ownImage === null || images.some((image) => image.tag === own.tag)
      ? []
      : [{ name: 'workspace', tag: own.tag, id: ownImage.id, built: own.built }]),
  ];
  if (flags.json) context.io.json({ images: all });
  for (const built of all) context.io.out(`${built.tag}\t${built.id.slice(7, 19)}\t${built.built ? 'built' : 'up to date'}`);
  return 0;
}
