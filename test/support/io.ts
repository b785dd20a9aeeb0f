import type { CommandContext } from '../../src/cli/context.js';
import type { Io } from '../../src/cli/io.js';

/** An Io that keeps what a command printed, so a command's run can be tested in-process. */
export interface RecordingIo extends Io {
  outs: string[];
  jsons: unknown[];
  logs: string[];
}

export function recordingIo(): RecordingIo {
  const outs: string[] = [];
  const jsons: unknown[] = [];
  const logs: string[] = [];
  return {
    outs,
    jsons,
    logs,
    out: (line) => outs.push(line),
    json: (value) => jsons.push(value),
    log: (line) => logs.push(line),
    interactive: false,
    quiet: false,
    toolOutput: false,
    columns: 80,
    progressLine: (text) => logs.push(text),
    clearScreen: () => undefined,
  };
}

/** A command context for an in-process run: the recording Io, a folder and an environment. */
export function testContext(cwd: string, env: NodeJS.ProcessEnv = process.env): CommandContext & { io: RecordingIo } {
  return { io: recordingIo(), cwd, env };
}
