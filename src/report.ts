import { DevkitError, EXIT_FAILURE, oneLine } from './errors.js';

/** Writes a failed command's one line to stderr (its stack too under DEVKIT_DEBUG) and returns its exit code. */
export function reportFailure(error: unknown): number {
  if (error instanceof DevkitError) {
    process.stderr.write(`devkit: ${oneLine(error.message)}\n`);
    if (process.env.DEVKIT_DEBUG && error.cause instanceof Error) process.stderr.write(`${error.cause.stack}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`devkit: internal error: ${oneLine(message)} (DEVKIT_DEBUG=1 shows where)\n`);
  if (process.env.DEVKIT_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  return EXIT_FAILURE;
}

/** bin/devkit kept NODE_EXTRA_CA_CERTS from Node's start-up; the programs devkit runs get it back. */
export function restoreCaCertsVariable(): void {
  const saved = process.env.DEVKIT_NODE_EXTRA_CA_CERTS;
  if (saved === undefined) return;
  process.env.NODE_EXTRA_CA_CERTS = saved;
  delete process.env.DEVKIT_NODE_EXTRA_CA_CERTS;
}
