import { openFleet } from '../open-fleet.js';
import type { CommandContext } from '../../cli/context.js';
import { withFleetLock } from '../../fleet/fleet.js';
import { agentPaths } from '../../fleet/layout.js';
import { requireAgent } from '../../fleet/records.js';
import { setUpSsh } from '../../ssh/setup.js';
import { parseIndex } from '../../validate.js';

export async function run(flags: { index: string; json?: boolean }, context: CommandContext): Promise<number> {
  const fleet = await openFleet(context);
  const index = requireAgent(fleet.state, parseIndex(flags.index, { what: '--index K', max: fleet.config.maxAgents }));
  const result = await withFleetLock(fleet, context, `ssh-setup --index ${index}`, () =>
    setUpSsh(fleet, agentPaths(fleet.config, index), fleet.config.ssh),
  );
  if (flags.json) context.io.json(result);
  context.io.log(
    result.keyCreated
      ? `made agent ${result.index}'s key ${result.privateKeyFile}`
      : `kept agent ${result.index}'s key ${result.privateKeyFile}`,
  );
  context.io.log('add this public key as a deploy key with write access to the repository on the git host:');
  context.io.out(result.publicKey);
  return 0;
}
