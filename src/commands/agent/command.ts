import type { Command } from 'commander';
import { runWith, type CommandHost } from '../context.js';

/**
 * devkit agent run K -- CMD..., and the shortcuts devkit codex K ... and
 * devkit claude K ...: an agent CLI inside agent K's container with HOME set
 * to agent K's devhome, so no two agents share ~/.codex or ~/.claude.json.
 */
export function registerAgent(program: Command, host: CommandHost): void {
  const run = async (index: string, cmd: string[]): Promise<void> =>
    runWith(host, { index, cmd, profile: host.profile() }, (await import('./run.js')).run);
  const agent = program.command('agent').description("run agents' CLIs, each with its own HOME");
  agent
    .command('run')
    .description("run CMD in agent K's container (its agentK profile unless -p), in its copy, with HOME = its devhome")
    .argument('<K>', 'the agent')
    .argument('<CMD...>', 'the command, after --')
    .passThroughOptions()
    .allowUnknownOption()
    .action(run);
  for (const cli of ['codex', 'claude']) {
    program
      .command(cli)
      .description(`run ${cli} as agent K: devkit agent run K -- ${cli} ARGS...`)
      .argument('<K>', 'the agent')
      .argument('[ARGS...]', `arguments for ${cli}`)
      .passThroughOptions()
      .allowUnknownOption()
      .action((index: string, args: string[]) => run(index, [cli, ...args]));
  }
}
