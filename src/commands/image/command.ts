import type { Command } from 'commander';
import { runWith, withJsonOption, type CommandHost } from '../context.js';

export function registerImage(program: Command, host: CommandHost): void {
  const image = program.command('image').description("the stack's images");
  withJsonOption(
    image
      .command('build')
      .description(
        "build every image the stack needs (dev, proxy, dns, and the workspace's own from devkit.yml's image section); " +
          'returns at once when they are up to date',
      ),
  ).action(async (flags: { json?: boolean }) => runWith(host, flags, (await import('./build/run.js')).run));
}
