import { fstatSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { isatty } from 'node:tty';
import { debugError, debugSwallow } from '../debug.js';
import { splitFrames, type EngineApi, type ExecState } from './engine-api.js';
import { DevkitError, oneLine } from '../errors.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** The streams an exec is wired to (process, or streams of the caller's); stdin is read only when the mode attaches it. */
export interface ExecStreams {
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?(raw: boolean): unknown };
  stdout: NodeJS.WritableStream & { isTTY?: boolean; rows?: number; columns?: number };
  stderr: NodeJS.WritableStream;
}

const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** The runtime's words when CMD is not in the image: the engine sends them as the exec's first output, and exit code 126. */
const NOT_IN_IMAGE = /^OCI runtime exec failed: .*exec: "([^"]*)": (?:executable file not found in \$PATH|no such file or directory)/;

/** An exec whose command is not in the container's image; the caller says which image and how to add it. */
export class CommandNotInImage extends DevkitError {
  constructor(readonly command: string) {
    super(`${command} is not in the container's image`, { exitCode: 127 });
  }
}

/**
 * Watches an exec's first output for the runtime's "executable file not
 * found" (then its only output), which runExec turns into one line: `held`
 * says whether a chunk is that message, to be kept back.
 */
class NotInImageWatch {
  private first = true;
  missing: string | null = null;

  held(chunk: Buffer): boolean {
    if (!this.first) return false;
    this.first = false;
    this.missing = NOT_IN_IMAGE.exec(chunk.toString('utf8'))?.[1] ?? null;
    return this.missing !== null;
  }
}

/** Writes the engine's multiplexed stream to stdout and stderr, bytes untouched, pausing the connection while a destination is full. */
function demultiplex(socket: Duplex, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream, watch: NotInImageWatch): void {
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    const { frames, rest } = splitFrames(pending.length === 0 ? chunk : Buffer.concat([pending, chunk]));
    pending = rest;
    for (const frame of frames) {
      if (watch.held(frame.payload)) continue;
      const target = frame.stream === 2 ? stderr : stdout;
      if (!target.write(frame.payload)) {
        socket.pause();
        target.once('drain', () => socket.resume());
      }
    }
  });
}

/** How long in all devkit waits for the engine to report an exec's exit code, or its pid, before it gives up. */
export const EXEC_REPORT_WAIT_MS = 10_000;

interface ExecPoll<T> {
  /** What is waited for, as the message names it. */
  what: string;
  /** The most one inspect may take, and the pause between inspects. */
  tryMs: number;
  pauseMs: number;
  /** What the state reports, or undefined while it does not yet; `notYet` says so in the message. */
  reported: (state: ExecState) => T | undefined;
  notYet: string;
}

/** An inspect's failure in a few words: the connection's own error rather than the advice around it. */
function failureText(error: unknown): string {
  const reason = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return reason instanceof Error ? reason.message : String(reason);
}

/**
 * Inspects an exec until its state reports what `poll` waits for, within
 * `waitMs` in all: an unanswered inspect is tried again, each bounded by the
 * time left. Then fails with one line naming the exec, and what the engine
 * last said of it or else why no inspect was answered.
 */
async function pollExec<T>(api: EngineApi, execId: string, waitMs: number, poll: ExecPoll<T>): Promise<T> {
  const shortId = execId.slice(0, 12);
  const deadline = performance.now() + waitMs;
  let answered = false;
  let failure = 'none was made';
  for (let left = waitMs; left > 0; left = deadline - performance.now()) {
    const state = await api.inspectExec(execId, Math.ceil(Math.min(poll.tryMs, left))).catch((error: unknown) => {
      failure = failureText(error);
      return debugSwallow(`inspecting exec ${shortId}`)(error);
    });
    const found = state === null ? undefined : poll.reported(state);
    if (found !== undefined) return found;
    answered ||= state !== null;
    await sleep(Math.min(poll.pauseMs, Math.max(0, deadline - performance.now())));
  }
  const failed = `the Docker engine did not report the ${poll.what} of exec ${shortId} within ${waitMs / 1000} s`;
  throw new DevkitError(`${failed} (${answered ? poll.notYet : `no inspect answered: ${oneLine(failure)}`})`);
}

/** The exec's state once it has ended. The stream can end a moment before the engine records the exit code. */
export function exitState(api: EngineApi, execId: string, waitMs = EXEC_REPORT_WAIT_MS): Promise<ExecState> {
  return pollExec(api, execId, waitMs, {
    what: 'exit code',
    tryMs: 2000,
    pauseMs: 10,
    reported: (state) => (state.Running ? undefined : state),
    notYet: 'it still says the exec is running',
  });
}

/**
 * The inner process's host pid, null once it has ended. The engine can leave
 * an inspect right after the start unanswered, and report pid 0 at first.
 */
export function innerPid(api: EngineApi, execId: string, waitMs = EXEC_REPORT_WAIT_MS): Promise<number | null> {
  return pollExec(api, execId, waitMs, {
    what: 'pid',
    tryMs: 500,
    pauseMs: 25,
    reported: (state) => (!state.Running ? null : state.Pid > 0 ? state.Pid : undefined),
    notYet: 'it reports no pid for it yet',
  });
}

/** How an exec is wired to devkit's own stdio. */
export interface ExecMode {
  /** A TTY inside, sized and resized like the terminal: stdin and stdout are both terminals. */
  tty: boolean;
  /** Whether devkit's stdin is passed in. */
  attachStdin: boolean;
  /** Aborted: the connection is closed, and what the exec prints after is never read. */
  abort?: AbortSignal;
}

const NULL_DEVICE = (1 << 8) | 3; // /dev/null's device number, 1:3, on Linux

/** True when fd is /dev/null or not open: nothing to pass in. */
function isNullOrClosed(fd: number): boolean {
  try {
    const stats = fstatSync(fd);
    return stats.isCharacterDevice() && stats.rdev === NULL_DEVICE;
  } catch {
    return true;
  }
}

/**
 * The mode for this process's stdio, read from its file descriptors (creating
 * process.stdin alone costs about 3 ms, and exec-cd is timed): a TTY when both
 * ends are terminals; stdin passed in unless it is a terminal off a TTY
 * session, /dev/null, or closed (docker exec's own default).
 */
export function processExecMode(): ExecMode {
  const stdinIsTerminal = isatty(0);
  const tty = stdinIsTerminal && isatty(1);
  return { tty, attachStdin: tty || (!stdinIsTerminal && !isNullOrClosed(0)) };
}

/**
 * Starts a created exec, wires it to the streams and returns its exit code.
 * With a terminal on both ends it is interactive (raw mode, a TTY of the
 * terminal's size that follows resizes, Ctrl-C reaching the inner process);
 * otherwise stdin, stdout and stderr stay three separate, binary-safe pipes,
 * and signals sent to devkit are passed on to the inner process.
 */
export async function runExec(api: EngineApi, execId: string, streams: ExecStreams, mode: ExecMode): Promise<number> {
  const { stdout, stderr } = streams;
  const watch = new NotInImageWatch();
  const { tty, attachStdin } = mode;
  const stdin = tty || attachStdin ? streams.stdin : null;
  const socket = await api.startExec(execId, tty);
  if (socket instanceof Socket) socket.setNoDelay(true); // TCP, TLS or the unix socket; ssh's pipes have no Nagle

  // The inner process's host pid, looked up when the first signal comes; asked again at the next when the engine did not tell.
  let pidLookUp: Promise<number | null> | null = null;
  const forward = (signal: NodeJS.Signals): void => {
    // The pid the engine reports is one on the engine's host: only a local engine's (its unix socket) is one here.
    if (api.endpoint.kind !== 'unix') {
      stderr.write(`devkit: ${signal} not passed on: the engine is not on this machine (a terminal's Ctrl-C still is)\n`);
      return;
    }
    pidLookUp ??= innerPid(api, execId).catch((error: unknown) => {
      pidLookUp = null;
      stderr.write(`devkit: ${oneLine(error instanceof Error ? error.message : String(error))}: ${signal} not passed on\n`);
      return null;
    });
    void pidLookUp.then((pid) => {
      try {
        if (pid !== null) process.kill(pid, signal);
      } catch (error) {
        debugError(`passing ${signal} to pid ${pid}`, error); // it has just ended
      }
    });
  };
  const handlers = FORWARDED_SIGNALS.map((signal) => [signal, () => forward(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);

  const resize = (): void => void api.resizeExec(execId, stdout.rows ?? 24, stdout.columns ?? 80);
  if (tty) {
    stdin?.setRawMode?.(true);
    resize();
    stdout.on('resize', resize);
    socket.on('data', (chunk: Buffer) => watch.held(chunk) || stdout.write(chunk));
  } else {
    demultiplex(socket, stdout, stderr, watch);
  }
  if (attachStdin) stdin?.pipe(socket); // stdin's end half-closes the connection: EOF inside
  socket.resume(); // startExec hands it over paused, so no output comes before it is wired

  const cut = (): void => void socket.destroy();
  mode.abort?.addEventListener('abort', cut, { once: true });
  await new Promise<void>((resolve) => {
    socket.on('close', () => resolve());
    socket.on('error', (error) => {
      debugError(`the stream of exec ${execId.slice(0, 12)}`, error);
      resolve();
    });
  });

  mode.abort?.removeEventListener('abort', cut);
  stdin?.unpipe(socket);
  if (tty) {
    stdout.removeListener('resize', resize);
    stdin?.setRawMode?.(false);
  }
  stdin?.pause();
  for (const [signal, handler] of handlers) process.removeListener(signal, handler);
  const state = await exitState(api, execId);
  if (watch.missing !== null && state.ExitCode === 126) throw new CommandNotInImage(watch.missing);
  return state.ExitCode ?? 1;
}
