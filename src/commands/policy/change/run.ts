import { openFleet } from '../../open-fleet.js';
import { existsSync } from 'node:fs';
import type { CommandContext } from '../../../cli/context.js';
import { loadWorkspace } from '../../../config/config.js';
import { debugSwallow } from '../../../debug.js';
import { connectEngine } from '../../../docker/engine-api.js';
import { withFleetLock, type Fleet } from '../../../fleet/fleet.js';
import { policyAgent } from '../../../policy/agent-option.js';
import { editPolicy } from '../../../policy/edit.js';
import { policyDir } from '../../../policy/paths.js';
import { policyFor, reloadSidecars, writePolicyFiles } from '../../../policy/policy.js';
import { checkDomain } from '../../../validate.js';
import type { PolicyOptions } from '../command.js';

/** Profiles whose policy a change reaches: one agent's, or every profile this workspace has policy files for. */
function affectedProfiles(fleet: Fleet, agent: string | null): string[] {
  if (agent !== null) return [agent];
  const profiles = ['dev-all', ...Array.from({ length: fleet.config.maxAgents }, (_, i) => `agent${i + 1}`)];
  return profiles.filter((profile) => existsSync(policyDir(fleet.workspace.dir, profile)));
}

export async function run(flags: PolicyOptions & { action: 'allow' | 'deny'; hostName: string }, context: CommandContext): Promise<number> {
  const hostName = checkDomain(flags.hostName, 'HOST');
  const fleet = await openFleet(context);
  const agent = policyAgent(fleet.config, flags.agent);
  const result = await withFleetLock(fleet, context, `policy ${flags.action} ${hostName}`, async () => {
    const changed = editPolicy(fleet.workspace.configPath, fleet.config, { action: flags.action, host: hostName, agent });
    // Read devkit.yml again: the policy now in force is what it says.
    const config = (await loadWorkspace(context.cwd, context.env)).config;
    const api = changed ? await connectEngine(fleet.env).catch(debugSwallow('the engine, to reload sidecars')) : null;
    let reloaded = 0;
    for (const profile of changed ? affectedProfiles(fleet, agent) : []) {
      writePolicyFiles(fleet.workspace.dir, profile, policyFor(config, profile));
      if (api !== null) reloaded += await reloadSidecars(api, config.root, profile);
    }
    return { action: flags.action, host: hostName, agent, changed, reloadedSidecars: reloaded };
  });
  if (flags.json) context.io.json(result);
  const scope = result.agent === null ? 'every agent' : result.agent;
  if (!result.changed)
    context.io.out(`${result.host} was ${flags.action === 'allow' ? 'already allowed' : 'not allowed'} for ${scope}; nothing changed`);
  else
    context.io.out(
      `${flags.action === 'allow' ? 'allowed' : 'denied'} ${result.host} for ${scope}; ` +
        `${result.reloadedSidecars} running sidecar(s) reloaded`,
    );
  return 0;
}
