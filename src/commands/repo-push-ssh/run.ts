import { openFleet } from '../open-fleet.js';
import { copyIdentity } from '../../agents/identity.js';
import type { CommandContext } from '../../cli/context.js';
import { debugSwallow } from '../../debug.js';
import { requireAgent } from '../../fleet/records.js';
import { pushOverSsh } from '../../ssh/push.js';
import { parseIndex } from '../../validate.js';
import { UsageError } from '../../errors.js';
import type { RepoPushOptions } from './command.js';

export async function run(options: RepoPushOptions, context: CommandContext): Promise<number> {
  const fleet = await openFleet(context);
  const rawIndex =
    options.index ??
    (await copyIdentity(context.cwd, context.env, fleet.git).catch(debugSwallow('the copy this runs in')))?.index?.toString();
  if (rawIndex === undefined) throw new UsageError("repo-push-ssh needs --index K (or run it inside agent K's copy)");
  const index = requireAgent(fleet.state, parseIndex(rawIndex, { what: '--index K', max: fleet.config.maxAgents }));
  const result = await pushOverSsh(fleet, { index, branch: options.branch, profile: options.profile });
  if (options.json) context.io.json(result);
  context.io.out(`pushed ${result.branch} to ${result.url} from agent${result.index}'s container (${result.profile})`);
  return 0;
}
