import { Command } from 'commander';
import { oneLine } from './errors.js';
import { registerAgent } from './commands/agent/command.js';
import { registerCheckpoint } from './commands/checkpoint/command.js';
import { registerConflicts } from './commands/conflicts/command.js';
import { registerDiff } from './commands/diff/command.js';
import { registerCompletion } from './commands/completion/command.js';
import { processHost } from './commands/context.js';
import { registerDoctor } from './commands/doctor/command.js';
import { registerExecCd } from './commands/exec-cd/command.js';
import { registerGc } from './commands/gc/command.js';
import { registerImage } from './commands/image/command.js';
import { registerInit } from './commands/init/command.js';
import { registerLog } from './commands/log/command.js';
import { registerMerge } from './commands/merge/command.js';
import { registerOverlay } from './commands/overlay/command.js';
import { registerPolicy } from './commands/policy/command.js';
import { registerPorts } from './commands/ports/command.js';
import { registerRepoPushSsh } from './commands/repo-push-ssh/command.js';
import { registerSession } from './commands/session/command.js';
import { registerSshSetup } from './commands/ssh-setup/command.js';
import { registerStack } from './commands/stack-command.js';
import { registerStatus } from './commands/status/command.js';
import { registerSync } from './commands/sync/command.js';
import { registerTeam } from './commands/team/command.js';
import { registerTmuxShells } from './commands/tmux-shells/command.js';
import { registerWorktrees } from './commands/worktrees/command.js';
import { escapeControls } from './cli/io.js';

export function buildProgram(exit: { code: number }): Command {
  const program = new Command('devkit')
    .description('Run several coding agents on one repository: a copy, a container, a HOME and an egress policy per agent.')
    .version('0.2.0', '--version')
    .option('-p, --profile <name>', 'the profile for up, down, ps and exec-cd: dev-all or agentK')
    .option('-q, --quiet', 'no logs on stderr (results and errors still print)')
    .option('--verbose', "docker compose's own output, also off a terminal (where devkit prints a line per stage)")
    // Program options come before the command, so exec-cd's CMD keeps options of its own.
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      // Usage errors are one line on stderr, like every other devkit error.
      outputError: (message, write) => write(`devkit: ${escapeControls(oneLine(message.replace(/^error: /, '')))}\n`),
    });
  const host = processHost(program, exit);
  // Subcommands made with .command() copy exitOverride and configureOutput from here.
  for (const register of [
    registerInit,
    registerWorktrees,
    registerSync,
    registerMerge,
    registerLog,
    registerCheckpoint,
    registerImage,
    registerOverlay,
    registerStack,
    registerExecCd,
    registerPolicy,
    registerSshSetup,
    registerRepoPushSsh,
    registerAgent,
    registerTmuxShells,
    registerStatus,
    registerDiff,
    registerConflicts,
    registerPorts,
    registerCompletion,
    registerDoctor,
    registerGc,
    registerTeam,
    registerSession,
  ]) {
    register(program, host);
  }
  return program;
}
