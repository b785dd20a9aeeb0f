import type { Command } from 'commander';
import type { CommandHost } from '../context.js';

export function registerCompletion(program: Command, host: CommandHost): void {
  program
    .command('completion')
    .description('print a completion script: eval "$(devkit completion bash)" in ~/.bashrc, or zsh in ~/.zshrc')
    .argument('<shell>', 'bash or zsh')
    .action(async (shell: string) => {
      const { completionScript } = await import('./run.js');
      process.stdout.write(completionScript(program, shell));
      host.setExitCode(0);
    });
}
