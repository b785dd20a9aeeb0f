import type { Io } from './io.js';

/**
 * Progress of one long step. On a terminal it rewrites one status line; off a
 * terminal (and with --json) it logs only the start and the end.
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
  const width = Math.max(20, io.columns - 1);
  const fit = (text: string): string => (text.length > width ? `${text.slice(0, width - 1)}…` : text);
  io.progressLine(fit(`${label}...`), false);
  return {
    update: (detail) => io.progressLine(fit(`${label}: ${detail.trim()}`), false),
    done: (summary) => io.progressLine(fit(`${label}: ${summary}`), true),
  };
}

/**
 * Shows a child process's output line by line as a progress's detail, and
 * keeps its last `keep` lines (blank ones left out), for the one line that
 * says why it failed.
 */
export function followLines(output: NodeJS.ReadableStream, progress: Progress, keep: number): string[] {
  const tail: string[] = [];
  output.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (line.trim() === '') continue;
      tail.push(line);
      if (tail.length > keep) tail.shift();
      progress.update(line);
    }
  });
  return tail;
}

/** No progress at all: --json and --quiet keep stderr for what went wrong. */
const SILENT: Progress = { update: () => undefined, done: () => undefined };

/** A progress for a step that only --json and --quiet keep silent (startProgress otherwise). */
export function stepProgress(io: Io, label: string): Progress {
  return io.quiet ? SILENT : startProgress(io, label);
}

/** Bytes as the progress lines show them. */
export function mebibytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
