import { openFleet } from '../open-fleet.js';
import type { CommandContext } from '../../cli/context.js';
import { DevkitError } from '../../errors.js';
import { hookFailure } from '../../hooks/hook-files.js';
import { runPostCreate } from '../../hooks/post-create.js';
import { stackSummary } from '../../stack/containers.js';
import { upProfile } from '../../stack/up.js';

export async function run(options: { profile?: string; json?: boolean; recreate?: boolean }, context: CommandContext): Promise<number> {
  const fleet = await openFleet(context);
  const result = await upProfile(fleet, options.profile, context, context.io.toolOutput, { recreate: options.recreate });
  const hooks = await runPostCreate(fleet, result.profile, context.io);
  // One line for the profile (`devkit ps` has the table).
  context.io.out(stackSummary(result.profile.name, result.containers));
  // The stack is up and the agent kept; a failed hook still fails the command (exit 1), naming its output.
  const failure = hookFailure(hooks, 'the agent is kept and its stack is up; the hook runs again on the next up');
  if (failure !== null) throw new DevkitError(failure);
  for (const hook of hooks) context.io.log(`${hook.agent}: postCreate hook done (output: ${hook.log})`);
  if (options.json) context.io.json({ ...result, hooks });
  return 0;
}
