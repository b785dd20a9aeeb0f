/**
 * Where a command's output goes: results on stdout, logs and progress on
 * stderr. With --json the JSON result is the only thing on stdout (logs stay
 * on stderr); --quiet silences logs. Every text line is escaped: names,
 * proxy log lines and file names can come from an agent, and an agent must not
 * reach the user's terminal with escape sequences. Commands take an Io, so
 * tests can run them in-process with a double (test/support/io.ts).
 */
export interface Io {
  /** A result line on stdout; not printed in --json mode. */
  out(line: string): void;
  /** The JSON result on stdout. */
  json(value: unknown): void;
  /** A log line on stderr; silent with --quiet. */
  log(line: string): void;
  /** True when stderr is a terminal that progress may redraw (not --json, not --quiet). */
  readonly interactive: boolean;
  /** True with --json or --quiet: the tools devkit runs keep their own progress to themselves too. */
  readonly quiet: boolean;
  /**
   * Whether the tools devkit runs (docker compose) show their own output: on
   * a terminal, or with --verbose; never with --json or --quiet. Off a
   * terminal devkit says one line per stage instead.
   */
  readonly toolOutput: boolean;
  /** The terminal's width for progress lines. */
  readonly columns: number;
  /** Rewrites the progress line on stderr (only when interactive); `done` ends it. */
  progressLine(text: string, done: boolean): void;
  /** Clears the terminal on stdout before a redraw (status --watch, which asks for a terminal). */
  clearScreen(): void;
}

export interface IoOptions {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

/**
 * Control characters (but tab) as visible escapes: \x1b, \r, \x9b...; and the
 * invisible format characters that reorder or hide text on a terminal
 * (bidirectional overrides and isolates, zero-width marks, byte order mark)
 * as \u{202e}: an agent's text must not pass for devkit's own lines.
 */
export function escapeControls(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(/[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`);
}

/** Text for one line: every line of it escaped, and joined as one line shown as several. */
function safeLines(text: string): string {
  return text.split('\n').map(escapeControls).join('\n');
}

/** Whether this process has put a JSON result on stdout (--json prints one document, even when the command then fails). */
let jsonResultWritten = false;

export function wroteJsonResult(): boolean {
  return jsonResultWritten;
}

export function processIo(options: IoOptions): Io {
  // Node types stderr as a terminal; it is a file or a pipe as often, with neither isTTY nor columns.
  const stderr: { isTTY?: boolean; columns?: number } = process.stderr;
  const json = options.json === true;
  const quiet = options.quiet === true;
  return {
    out: (line) => {
      if (!json) process.stdout.write(`${safeLines(line)}\n`);
    },
    json: (value) => {
      jsonResultWritten = true;
      process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    log: (line) => {
      if (!quiet) process.stderr.write(`${safeLines(line)}\n`);
    },
    interactive: stderr.isTTY === true && !json && !quiet,
    quiet: json || quiet,
    toolOutput: !json && !quiet && (stderr.isTTY === true || options.verbose === true),
    columns: stderr.columns ?? 80,
    progressLine: (text, done) => {
      process.stderr.write(`\r\x1b[K${escapeControls(text)}${done ? '\n' : ''}`);
    },
    clearScreen: () => {
      process.stdout.write('\x1b[H\x1b[2J');
    },
  };
}
