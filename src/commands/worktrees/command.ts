import type { Command } from 'commander';
import type { CommandHost } from '../context.js';
import { registerWorktreesInit } from './init/command.js';
import { registerWorktreesList } from './list/command.js';
import { registerWorktreesNotice } from './notice/command.js';
import { registerWorktreesPrune } from './prune/command.js';
import { registerWorktreesRemove } from './remove/command.js';
import { registerWorktreesSession } from './session/command.js';

export function registerWorktrees(program: Command, host: CommandHost): void {
  const worktrees = program.command('worktrees').description("the agents' copies and HOMEs");
  registerWorktreesInit(worktrees, host);
  registerWorktreesList(worktrees, host);
  registerWorktreesRemove(worktrees, host);
  registerWorktreesPrune(worktrees, host);
  registerWorktreesSession(worktrees, host);
  registerWorktreesNotice(worktrees, host);
}
