import type { Command } from 'commander';
import { runWith, withJsonOption, type CommandHost } from '../context.js';

export interface PolicyOptions {
  agent?: string;
  json?: boolean;
}

/** devkit policy show | allow HOST | deny HOST | ports allow|deny PORT | presets | log, each with --agent K but presets. */
export function registerPolicy(program: Command, host: CommandHost): void {
  const policy = program.command('policy').description('the egress allowlist: which domains agents reach through the proxy and DNS');
  const agentOption = (command: Command): Command =>
    withJsonOption(command.option('--agent <K>', "agent K's own list (its agentK stack), not the global one"));
  agentOption(policy.command('show').description('the allowed domains (each with its subdomains) and CONNECT ports')).action(
    async (flags: PolicyOptions) => runWith(host, flags, (await import('./show/run.js')).run),
  );
  for (const action of ['allow', 'deny'] as const) {
    const what = action === 'allow' ? 'allow HOST and its subdomains' : 'take HOST off the allowlist';
    agentOption(
      policy.command(action).description(`${what}; running proxies and resolvers reload, agents keep running`).argument('<HOST>'),
    ).action(async (hostName: string, flags: PolicyOptions) =>
      runWith(host, { ...flags, action, hostName }, (await import('./change/run.js')).run),
    );
  }
  const ports = policy.command('ports').description('the ports CONNECT may open (443 by default)');
  for (const action of ['allow', 'deny'] as const) {
    agentOption(ports.command(action).description(`${action} CONNECT to PORT; running proxies reload`).argument('<PORT>')).action(
      async (port: string, flags: PolicyOptions) => runWith(host, { ...flags, action, port }, (await import('./change/run.js')).run),
    );
  }
  withJsonOption(policy.command('presets').description('the sets of domains devkit keeps (egress.presets), and which are on')).action(
    async (flags: PolicyOptions) => runWith(host, flags, (await import('./presets/run.js')).run),
  );
  agentOption(policy.command('log').description("recent requests the proxies refused, per agent (from the proxies' logs)")).action(
    async (flags: PolicyOptions) => runWith(host, flags, (await import('./log/run.js')).run),
  );
}
