/**
 * Where a command's output goes. Results go to stdout, logs and progress to
 * stderr; with --json only the JSON result reaches stdout. Commands take an Io
 * so that tests can see exactly what they printed.
 */
export interface Io {
  /** A result line on stdout. */
  out(line: string): void;
  /** A JSON result on stdout (the only thing printed there in --json mode). */
  json(value: unknown): void;
  /** A log line on stderr; silent in --json mode. */
  log(line: string): void;
  /** True when stderr is a terminal and progress may be shown there. */
  readonly interactive: boolean;
}

export interface IoOptions {
  json: boolean;
}

export function processIo(options: IoOptions): Io {
  return {
    out: (line) => {
      if (!options.json) process.stdout.write(`${line}\n`);
    },
    json: (value) => {
      process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    log: (line) => {
      if (!options.json) process.stderr.write(`${line}\n`);
    },
    interactive: Boolean(process.stderr.isTTY) && !options.json,
  };
}
