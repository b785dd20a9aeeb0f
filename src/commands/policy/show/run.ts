import type { CommandContext } from '../../../cli/context.js';
import { loadWorkspace } from '../../../config/config.js';
import { policyAgent } from '../../../policy/agent-option.js';
import { policyFor } from '../../../policy/policy.js';
import type { PolicyOptions } from '../command.js';

export async function run(flags: PolicyOptions, context: CommandContext): Promise<number> {
  const { config } = await loadWorkspace(context.cwd, context.env);
  const agent = policyAgent(config, flags.agent);
  const policy = { agent, presets: config.egress.presets, ...policyFor(config, agent ?? 'dev-all') };
  if (flags.json) context.io.json(policy);
  context.io.out(`presets: ${policy.presets.length === 0 ? 'none' : policy.presets.join(', ')} (devkit policy presets lists them)`);
  context.io.out(`allowed domains${agent === null ? '' : ` for ${agent}`} (each with its subdomains):`);
  for (const domain of policy.allow) context.io.out(`  ${domain}`);
  for (const [name, address] of Object.entries(policy.hosts)) context.io.out(`  ${name} (at ${address})`);
  context.io.out(`CONNECT ports: ${policy.ports.join(', ')}`);
  return 0;
}
