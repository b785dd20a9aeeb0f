import type { Command } from 'commander';
import { runWith, withJsonOption, type CommandHost } from '../context.js';
import type { InitOptions } from './run.js';

export function registerInit(program: Command, host: CommandHost): void {
  withJsonOption(
    program
      .command('init')
      .description(
        'make the current directory a devkit workspace (writes devkit.yml, compose.yml and overlays/dev-all); ' +
          'it must be outside the dev root',
      )
      .requiredOption('--root <dir>', "the dev root: holds the primary clone and the agents' folders")
      .requiredOption('--repo <name>', "the primary clone's folder name under the root")
      .option('--force', 'replace an existing devkit.yml that names another root or repo'),
  ).action(async (options: InitOptions) => runWith(host, options, (await import('./run.js')).run));
}
