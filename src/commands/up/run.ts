import { openFleet } from '../open-fleet.js';
import type { CommandContext } from '../../cli/context.js';
import { printContainers } from '../../stack/containers.js';
import { upProfile } from '../../stack/up.js';

export async function run(options: { profile?: string; json?: boolean }, context: CommandContext): Promise<number> {
  const result = await upProfile(await openFleet(context), options.profile, context, context.io.quiet);
  if (options.json) context.io.json(result);
  printContainers(context.io, result.containers);
  return 0;
}
