import { openFleet } from '../open-fleet.js';
import type { CommandContext } from '../../cli/context.js';
import { stackSummary } from '../../stack/containers.js';
import { upProfile } from '../../stack/up.js';

export async function run(options: { profile?: string; json?: boolean; recreate?: boolean }, context: CommandContext): Promise<number> {
  const result = await upProfile(await openFleet(context), options.profile, context, context.io.toolOutput, { recreate: options.recreate });
  if (options.json) context.io.json(result);
  // One line for the profile (`devkit ps` has the table).
  context.io.out(stackSummary(result.profile.name, result.containers));
  return 0;
}
