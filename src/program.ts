import { Command } from 'commander';
import { oneLine } from './errors.js';
import { registerImage } from './commands/image/image.js';
import { registerInit } from './commands/init/init.js';
import { registerWorktrees } from './commands/worktrees/worktrees.js';
import type { CommandHost } from './commands/context.js';

export function buildProgram(host: CommandHost): Command {
  const program = new Command('devkit')
    .description('Run several coding agents on one repository: a worktree, a container, a HOME and an egress policy per agent.')
    .version('0.1.0', '--version')
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
  return program;
}
