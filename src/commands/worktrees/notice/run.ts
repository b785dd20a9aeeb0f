import { worktreeNotice } from '../../../agents/notice.js';
import type { CommandContext } from '../../../cli/context.js';
import { gitBase } from '../../../git/git.js';

export async function run(flags: { from: string }, context: CommandContext): Promise<number> {
  context.io.out((await worktreeNotice(context.cwd, flags.from, context.env, gitBase(context.env))).trimEnd());
  return 0;
}
