import { openFleet } from '../../open-fleet.js';
import { existsSync } from 'node:fs';
import type { CommandContext } from '../../../cli/context.js';
import { loadWorkspace } from '../../../config/config.js';
import { debugSwallow } from '../../../debug.js';
import { connectEngine } from '../../../docker/engine-api.js';
import { UsageError } from '../../../errors.js';
import { withFleetLock, type Fleet } from '../../../fleet/fleet.js';
import { policyAgent } from '../../../policy/agent-option.js';
import { editPolicy, type PolicyChange } from '../../../policy/edit.js';
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

/** What the command line asks for: a domain (`policy allow|deny HOST`) or a port (`policy ports allow|deny PORT`). */
export type ChangeRequest = { action: 'allow' | 'deny' } & ({ hostName: string } | { port: string });

function parseChange(flags: ChangeRequest, agent: string | null): PolicyChange {
  if ('hostName' in flags) return { kind: 'domain', action: flags.action, host: checkDomain(flags.hostName, 'HOST'), agent };
  const port = /^[0-9]{1,5}$/.test(flags.port) ? Number(flags.port) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new UsageError(`PORT must be a port from 1 to 65535, got ${JSON.stringify(flags.port)}`);
  return { kind: 'port', action: flags.action, port, agent };
}

export async function run(flags: PolicyOptions & ChangeRequest, context: CommandContext): Promise<number> {
  const fleet = await openFleet(context);
  const change = parseChange(flags, policyAgent(fleet.config, flags.agent));
  const what = change.kind === 'domain' ? change.host : `port ${change.port}`;
  const result = await withFleetLock(fleet, context, `policy ${change.action} ${what}`, async () => {
    const changed = editPolicy(fleet.workspace.configPath, fleet.config, change);
    // Read devkit.yml again: the policy now in force is what it says.
    const config = (await loadWorkspace(context.cwd, context.env)).config;
    const api = changed ? await connectEngine(fleet.env).catch(debugSwallow('the engine, to reload sidecars')) : null;
    let reloaded = 0;
    for (const profile of changed ? affectedProfiles(fleet, change.agent) : []) {
      writePolicyFiles(fleet.workspace.dir, profile, policyFor(config, profile));
      if (api !== null) reloaded += await reloadSidecars(api, config.root, profile);
    }
    return {
      action: change.action,
      ...(change.kind === 'domain' ? { host: change.host } : { port: change.port }),
      agent: change.agent,
      changed,
      reloadedSidecars: reloaded,
    };
  });
  if (flags.json) context.io.json(result);
  const scope = result.agent === null ? 'every agent' : result.agent;
  if (!result.changed)
    context.io.out(`${what} was ${change.action === 'allow' ? 'already allowed' : 'not allowed'} for ${scope}; nothing changed`);
  else
    context.io.out(
      `${change.action === 'allow' ? 'allowed' : 'denied'} ${what} for ${scope}; ${result.reloadedSidecars} running sidecar(s) reloaded`,
    );
  return 0;
}
