import { existsSync } from 'node:fs';
import { openDevRoot, withDevRootLock, type CommandContext, type DevRoot } from '../../agents/devroot.js';
import { loadWorkspace } from '../../config/config.js';
import { engine } from '../../docker/images.js';
import { editPolicy } from '../../policy/edit.js';
import { policyDir, policyFor, recentDenials, reloadSidecars, writePolicyFiles, type Denial, type ProfilePolicy } from '../../policy/policy.js';
import { formatTable } from '../../table.js';
import { checkHostName, parseIndex } from '../../validate.js';
import { processContext, type CommandHost } from '../context.js';
import type { PolicyOptions } from './command.js';

/** `--agent K` as the profile name agentK, or null for the global list. */
function agentOf(devRoot: Pick<DevRoot, 'config'>, raw: string | undefined): string | null {
  return raw === undefined ? null : `agent${parseIndex(raw, { what: '--agent K', min: 1, max: devRoot.config.maxAgents })}`;
}

/** Profiles whose policy a change reaches: one agent's, or every profile this workspace has policy files for. */
function affectedProfiles(devRoot: DevRoot, agent: string | null): string[] {
  if (agent !== null) return [agent];
  const profiles = ['dev-all', ...Array.from({ length: devRoot.config.maxAgents }, (_, i) => `agent${i + 1}`)];
  return profiles.filter((profile) => existsSync(policyDir(devRoot.workspace.dir, profile)));
}

export async function runPolicyChange(action: 'allow' | 'deny', rawHost: string, options: PolicyOptions, context: CommandContext) {
  const hostName = checkHostName(rawHost, 'HOST');
  const devRoot = await openDevRoot(context);
  const agent = agentOf(devRoot, options.agent);
  return withDevRootLock(devRoot, context, `policy ${action} ${hostName}`, async () => {
    const changed = editPolicy(devRoot.workspace.configPath, devRoot.config, { action, host: hostName, agent });
    // Read devkit.yml again: the policy now in force is what it says.
    const config = loadWorkspace(context.cwd, context.env).config;
    const api = changed ? await engine().catch(() => null) : null;
    let reloaded = 0;
    for (const profile of changed ? affectedProfiles(devRoot, agent) : []) {
      writePolicyFiles(devRoot.workspace.dir, profile, policyFor(config, profile));
      if (api !== null) reloaded += await reloadSidecars(api, config.root, profile);
    }
    return { action, host: hostName, agent, changed, reloadedSidecars: reloaded };
  });
}

export async function change(action: 'allow' | 'deny', rawHost: string, flags: PolicyOptions, host: CommandHost): Promise<void> {
  const context = processContext(flags);
  const result = await runPolicyChange(action, rawHost, flags, context);
  if (flags.json) context.io.json(result);
  const scope = result.agent === null ? 'every agent' : result.agent;
  if (!result.changed) context.io.out(`${result.host} was ${action === 'allow' ? 'already allowed' : 'not allowed'} for ${scope}; nothing changed`);
  else context.io.out(`${action === 'allow' ? 'allowed' : 'denied'} ${result.host} for ${scope}; ${result.reloadedSidecars} running sidecar(s) reloaded`);
  host.setExitCode(0);
}

export async function runPolicyShow(options: PolicyOptions, context: CommandContext): Promise<ProfilePolicy & { agent: string | null }> {
  const { config } = loadWorkspace(context.cwd, context.env);
  const agent = agentOf({ config }, options.agent);
  return { agent, ...(agent === null ? policyFor(config, 'dev-all') : policyFor(config, agent)) };
}

export async function show(flags: PolicyOptions, host: CommandHost): Promise<void> {
  const context = processContext(flags);
  const policy = await runPolicyShow(flags, context);
  if (flags.json) context.io.json(policy);
  context.io.out(`allowed domains${policy.agent === null ? '' : ` for ${policy.agent}`} (each with its subdomains):`);
  for (const domain of policy.allow) context.io.out(`  ${domain}`);
  context.io.out(`CONNECT ports: ${policy.ports.join(', ')}`);
  host.setExitCode(0);
}

export async function runPolicyLog(options: PolicyOptions, context: CommandContext): Promise<Denial[]> {
  const devRoot = await openDevRoot(context);
  const agent = agentOf(devRoot, options.agent);
  return recentDenials(await engine(), devRoot.config.root, agent ?? undefined);
}

export async function log(flags: PolicyOptions, host: CommandHost): Promise<void> {
  const context = processContext(flags);
  const denials = await runPolicyLog(flags, context);
  if (flags.json) context.io.json({ denials });
  if (denials.length === 0) context.io.log('no refused requests in the proxies\' recent logs');
  else for (const line of formatTable(['AGENT', 'TIME', 'REFUSED', 'WHY'], denials.map((d) => [d.profile, d.time, d.target, d.reason === 'domain' ? 'domain not allowed' : 'CONNECT port not allowed']))) context.io.out(line);
  host.setExitCode(0);
}
