import { oneLine } from './errors.js';

/**
 * Shows an error devkit drops on purpose (an inspect it tries again, the
 * resize of a process that has just ended) as one line on stderr under
 * DEVKIT_DEBUG; otherwise nothing. process.stderr is touched only then:
 * creating it costs exec-cd start-up time.
 */
export function debugError(what: string, error: unknown): void {
  if (!process.env.DEVKIT_DEBUG) return;
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`devkit: debug: ${what}: ${oneLine(message)}\n`);
}

/** A catch handler that drops the error (shown under DEVKIT_DEBUG, see debugError) and gives null instead. */
export function debugSwallow(what: string): (error: unknown) => null {
  return (error) => {
    debugError(what, error);
    return null;
  };
}
