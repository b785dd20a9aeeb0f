import type { Io } from './io.js';

/**
 * Progress of one long step. On a terminal it rewrites one status line; off a
 * terminal it logs only the start and the end; with --json it says nothing.
 */
export interface Progress {
  update(detail: string): void;
  done(summary: string): void;
}

export function startProgress(io: Io, label: string): Progress {
  if (!io.interactive) {
    io.log(`${label}...`);
    return { update: () => undefined, done: (summary) => io.log(`${label}: ${summary}`) };
  }
  const width = Math.max(20, (process.stderr.columns ?? 80) - 1);
  const draw = (text: string): void => {
    process.stderr.write(`\r\x1b[K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
  };
  draw(`${label}...`);
  return {
    update: (detail) => draw(`${label}: ${detail.trim()}`),
    done: (summary) => {
      draw(`${label}: ${summary}`);
      process.stderr.write('\n');
    },
  };
}
