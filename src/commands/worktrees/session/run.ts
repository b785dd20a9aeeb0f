import { copyIdentity } from '../../../agents/identity.js';
import type { CommandContext } from '../../../cli/context.js';
import { gitBase } from '../../../git/git.js';

export async function run(flags: { json?: boolean }, context: CommandContext): Promise<number> {
  const info = await copyIdentity(context.cwd, context.env, gitBase(context.env));
  if (flags.json) context.io.json(info);
  for (const [key, value] of Object.entries(info)) context.io.out(`${key}: ${value ?? ''}`);
  return 0;
}
