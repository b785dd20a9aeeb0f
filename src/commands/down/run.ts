import { openFleet } from '../open-fleet.js';
import type { CommandContext } from '../../cli/context.js';
import { runCompose } from '../../stack/compose.js';
import { composeTarget, resolveProfile } from '../../stack/profile.js';

export async function run(options: { profile?: string; volumes?: boolean; json?: boolean }, context: CommandContext): Promise<number> {
  const fleet = await openFleet(context);
  const profile = resolveProfile(fleet, options.profile);
  // The shared caches are external volumes: --volumes removes only this project's own.
  const args = ['down', ...(options.volumes === true ? ['--volumes'] : [])];
  await runCompose({ ...composeTarget(fleet, profile), args, quiet: !context.io.toolOutput });
  if (options.json) context.io.json({ profile });
  context.io.log(`${profile.project} is down`);
  return 0;
}
