import { DevkitError, EXIT_FAILURE, oneLine } from '../errors.js';
import { escapeControls, wroteJsonResult } from './io.js';

/**
 * Reports a failed command: one line on stderr, always (its stack too under
 * DEVKIT_DEBUG), and under --json also a JSON error object on stdout, so a
 * script reading stdout learns what went wrong, unless the command printed
 * its result before it failed. Returns the exit code.
 */
export function reportFailure(error: unknown, options: { json: boolean; env: NodeJS.ProcessEnv }): number {
  const known = error instanceof DevkitError;
  const message = oneLine(error instanceof Error ? error.message : String(error));
  const exitCode = known ? error.exitCode : EXIT_FAILURE;
  const line = known ? message : `internal error: ${message} (DEVKIT_DEBUG=1 shows where)`;
  process.stderr.write(`devkit: ${escapeControls(line)}\n`);
  const cause = known ? error.cause : error;
  if (options.env.DEVKIT_DEBUG && cause instanceof Error) process.stderr.write(`${cause.stack ?? cause.message}\n`);
  // A command that failed after printing its result (team destroy leaving a member) has its document out
  // already, saying what happened: a second one would make stdout unparseable. stderr and the exit say it failed.
  if (options.json && !wroteJsonResult()) process.stdout.write(`${JSON.stringify({ error: { message: line, exitCode } }, null, 2)}\n`);
  return exitCode;
}

/** bin/devkit kept NODE_EXTRA_CA_CERTS from Node's start-up; the programs devkit runs get it back. */
export function restoreCaCertsVariable(): void {
  const saved = process.env.DEVKIT_NODE_EXTRA_CA_CERTS;
  if (saved === undefined) return;
  process.env.NODE_EXTRA_CA_CERTS = saved;
  delete process.env.DEVKIT_NODE_EXTRA_CA_CERTS;
}
