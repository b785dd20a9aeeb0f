import type { Command } from 'commander';
import { runWith, type CommandHost } from '../context.js';

export function registerCompletion(program: Command, host: CommandHost): void {
  program
    .command('completion')
    .description('print a completion script: eval "$(devkit completion bash)" in ~/.bashrc, or zsh in ~/.zshrc')
    .argument('<shell>', 'bash or zsh')
    .action(async (shell: string) => runWith(host, { shell, program }, (await import('./run.js')).run));
}
