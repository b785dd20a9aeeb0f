import type { Command } from 'commander';
import type { CommandHost } from '../context.js';
import { registerWorktreesInit } from './init.js';
import { registerWorktreesList } from './list.js';
import { registerWorktreesPrune } from './prune.js';
import { registerWorktreesRemove } from './remove.js';
import { registerWorktreesSession } from './session.js';

export function registerWorktrees(program: Command, host: CommandHost): void {
  const worktrees = program.command('worktrees').description("the agents' git worktrees and HOMEs");
  registerWorktreesInit(worktrees, host);
  registerWorktreesList(worktrees, host);
  registerWorktreesRemove(worktrees, host);
  registerWorktreesPrune(worktrees, host);
  registerWorktreesSession(worktrees, host);
}
