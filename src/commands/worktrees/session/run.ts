import { sessionInfo } from '../../../agents/session.js';
import { processContext, type CommandHost } from '../../context.js';

export async function main(flags: { json?: boolean }, host: CommandHost): Promise<void> {
  const context = processContext(flags);
  const info = await sessionInfo(context.cwd);
  if (flags.json) context.io.json(info);
  for (const [key, value] of Object.entries(info)) context.io.out(`${key}: ${value ?? ''}`);
  host.setExitCode(0);
}
