import { openDevRoot, withDevRootLock, type CommandContext, type DevRoot } from '../../agents/devroot.js';
import { agentIndexesOf, agentPaths } from '../../agents/layout.js';
import { UsageError } from '../../errors.js';
import { listWorktrees } from '../../git/worktrees.js';
import { setUpSsh, type SshSetupResult } from '../../ssh/setup.js';
import { parseIndex } from '../../validate.js';
import { processContext, type CommandHost } from '../context.js';

/** `--index K` for an agent that exists. */
export async function existingAgent(devRoot: DevRoot, raw: string): Promise<number> {
  const index = parseIndex(raw, { what: '--index K', max: devRoot.config.maxAgents });
  const known = agentIndexesOf(devRoot.config, await listWorktrees(devRoot.repo.top));
  if (!known.includes(index)) throw new UsageError(`no agent ${index} (agents: ${known.join(', ')}): make it with devkit worktrees init ${index}`);
  return index;
}

export async function runSshSetup(options: { index: string }, context: CommandContext): Promise<SshSetupResult> {
  const devRoot = await openDevRoot(context);
  const index = await existingAgent(devRoot, options.index);
  return withDevRootLock(devRoot, context, `ssh-setup --index ${index}`, () => setUpSsh(agentPaths(devRoot.config, index), devRoot.config.ssh, devRoot.config.repo));
}

export async function main(flags: { index: string; json?: boolean }, host: CommandHost): Promise<void> {
  const context = processContext(flags);
  const result = await runSshSetup(flags, context);
  if (flags.json) context.io.json(result);
  context.io.log(result.keyCreated ? `made agent ${result.index}'s key ${result.privateKeyFile}` : `kept agent ${result.index}'s key ${result.privateKeyFile}`);
  context.io.log(`add this public key as a deploy key with write access to the repository on the git host:`);
  context.io.out(result.publicKey);
  host.setExitCode(0);
}
