/** Exit codes of the command-line contract (design.md). */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/**
 * The one error type devkit raises on purpose. Its message is the single line
 * the user sees on stderr: what was wrong and what to do about it.
 */
export class DevkitError extends Error {
  readonly exitCode: number;

  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DevkitError';
    this.exitCode = options.exitCode ?? EXIT_FAILURE;
  }
}

/** Bad usage or bad input: exit 2, and nothing may have been changed yet. */
export class UsageError extends DevkitError {
  constructor(message: string) {
    super(message, { exitCode: EXIT_USAGE });
    this.name = 'UsageError';
  }
}

/** Keeps a message to one line, as every devkit error is. */
export function oneLine(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, '; ');
}
