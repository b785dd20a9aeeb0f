import { openFleet } from '../../open-fleet.js';
import type { CommandContext } from '../../../cli/context.js';
import { formatTable } from '../../../cli/table.js';
import { connectEngine } from '../../../docker/engine-api.js';
import { policyAgent } from '../../../policy/agent-option.js';
import { recentDenials } from '../../../policy/log.js';
import type { PolicyOptions } from '../command.js';

export async function run(flags: PolicyOptions, context: CommandContext): Promise<number> {
  const fleet = await openFleet(context);
  const agent = policyAgent(fleet.config, flags.agent);
  const denials = await recentDenials(await connectEngine(fleet.env), fleet.config.root, agent ?? undefined);
  if (flags.json) context.io.json({ denials });
  if (denials.length === 0) context.io.log("no refused requests in the proxies' recent logs");
  const rows = denials.map((d) => [d.profile, d.time, d.target, d.reason === 'domain' ? 'domain not allowed' : 'CONNECT port not allowed']);
  if (rows.length > 0) for (const line of formatTable(['AGENT', 'TIME', 'REFUSED', 'WHY'], rows)) context.io.out(line);
  return 0;
}
