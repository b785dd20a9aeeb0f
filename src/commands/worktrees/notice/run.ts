import { worktreeNotice } from '../../../agents/notice.js';
import { processContext, type CommandHost } from '../../context.js';

export async function main(flags: { from: string }, host: CommandHost): Promise<void> {
  const context = processContext({});
  context.io.out((await worktreeNotice(context.cwd, flags.from)).trimEnd());
  host.setExitCode(0);
}
