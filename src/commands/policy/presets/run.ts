import type { CommandContext } from '../../../cli/context.js';
import { loadWorkspace } from '../../../config/config.js';
import { EGRESS_PRESETS } from '../../../config/egress-presets.js';
import type { PolicyOptions } from '../command.js';

export async function run(flags: PolicyOptions, context: CommandContext): Promise<number> {
  const { config } = await loadWorkspace(context.cwd, context.env);
  const presets = Object.entries(EGRESS_PRESETS).map(([name, preset]) => ({
    name,
    on: config.egress.presets.includes(name),
    description: preset.description,
    domains: [...preset.domains],
  }));
  if (flags.json) {
    context.io.json({ presets });
    return 0;
  }
  for (const preset of presets) {
    context.io.out(`${preset.on ? '*' : ' '} ${preset.name.padEnd(8)} ${preset.description}`);
    context.io.out(`           ${preset.domains.join(', ')}`);
  }
  context.io.out('* in force (egress.presets in devkit.yml)');
  return 0;
}
