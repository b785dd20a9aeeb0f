import type { Command } from 'commander';
import { runWith, type CommandHost } from '../context.js';

export function registerExecCd(program: Command, host: CommandHost): void {
  program
    .command('exec-cd')
    .description("run CMD (default: bash) in the profile's container, in PATH, with agent K's HOME; exits with CMD's code")
    .argument('<K>', 'agent index')
    .argument('<PATH>', 'folder under /workspaces/dev (dev-all) or /workspace (agentK)')
    .argument('[CMD...]', 'the command and its arguments')
    // Everything after PATH belongs to CMD, options included.
    .passThroughOptions()
    .allowUnknownOption()
    .action(async (index: string, path: string, cmd: string[]) =>
      runWith(host, { profile: host.profile(), index, path, cmd }, (await import('./run.js')).run),
    );
}
