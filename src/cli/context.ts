import { processIo, type Io, type IoOptions } from './io.js';

/** What every command gets from the process: where it runs, its environment, and how it talks. */
export interface CommandContext {
  io: Io;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** The context of one command run in this process. */
export function processContext(options: IoOptions): CommandContext {
  return { io: processIo(options), cwd: process.cwd(), env: process.env };
}
