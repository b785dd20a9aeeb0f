import type { Command } from 'commander';
import type { CommandContext } from '../agents/devroot.js';
import { processIo } from '../io.js';

/** What program.ts hands every command's register function. */
export interface CommandHost {
  setExitCode(code: number): void;
}

/** The context of one command run in this process. */
export function processContext(options: { json?: boolean }): CommandContext {
  return { io: processIo({ json: options.json === true }), cwd: process.cwd(), env: process.env };
}

/** The one --json option every command that has a result shares. */
export function withJsonOption(command: Command): Command {
  return command.option('--json', 'print the result as JSON on stdout (logs stay on stderr)');
}
