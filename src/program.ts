import { Command } from 'commander';
import { oneLine } from './errors.js';
import { registerAgent } from './commands/agent/command.js';
import { registerCompletion } from './commands/completion/command.js';
import { registerDoctor } from './commands/doctor/command.js';
import { registerExecCd } from './commands/exec-cd/command.js';
import { registerImage } from './commands/image/command.js';
import { registerInit } from './commands/init/command.js';
import { registerOverlay } from './commands/overlay/command.js';
import { registerPolicy } from './commands/policy/command.js';
import { registerRepoPushSsh } from './commands/repo-push-ssh/command.js';
import { registerSshSetup } from './commands/ssh-setup/command.js';
import { registerStack } from './commands/stack-command.js';
import { registerStatus } from './commands/status/command.js';
import { registerTeam } from './commands/team/command.js';
import { registerTmuxShells } from './commands/tmux-shells/command.js';
import { registerWorktrees } from './commands/worktrees/command.js';
import type { CommandHost } from './commands/context.js';

export function buildProgram(host: CommandHost): Command {
  const program = new Command('devkit')
    .description('Run several coding agents on one repository: a worktree, a container, a HOME and an egress policy per agent.')
    .version('0.1.0', '--version')
    .option('-p, --profile <name>', 'the profile for up, down, ps and exec-cd: dev-all or agentK')
    // Program options come before the command, so exec-cd's CMD keeps options of its own.
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      // Usage errors are one line on stderr, like every other devkit error.
      outputError: (message, write) => write(`devkit: ${oneLine(message.replace(/^error: /, ''))}\n`),
    });
  // Subcommands made with .command() copy exitOverride and configureOutput from here.
  registerInit(program, host);
  registerWorktrees(program, host);
  registerImage(program, host);
  registerOverlay(program, host);
  registerStack(program, host);
  registerExecCd(program, host);
  registerPolicy(program, host);
  registerSshSetup(program, host);
  registerRepoPushSsh(program, host);
  registerAgent(program, host);
  registerTmuxShells(program, host);
  registerStatus(program, host);
  registerCompletion(program, host);
  registerDoctor(program, host);
  registerTeam(program, host);
  return program;
}
