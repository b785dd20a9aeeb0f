import { openFleet } from '../open-fleet.js';
import type { CommandContext } from '../../cli/context.js';
import { printContainers, profileContainers } from '../../stack/containers.js';
import { resolveProfile } from '../../stack/profile.js';

export async function run(options: { profile?: string; json?: boolean }, context: CommandContext): Promise<number> {
  const fleet = await openFleet(context);
  // Without -p, every profile of this dev root.
  const profile = options.profile === undefined ? undefined : resolveProfile(fleet, options.profile).name;
  const { containers, silent } = await profileContainers(fleet, profile);
  if (options.json) context.io.json({ containers, silentEngines: silent.map((engine) => engine.message) });
  printContainers(context.io, containers);
  for (const engine of silent) context.io.log(`devkit: ${engine.message}`);
  return silent.length > 0 ? 1 : 0;
}
