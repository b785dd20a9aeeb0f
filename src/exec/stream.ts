import { fstatSync } from 'node:fs';
import type { Socket } from 'node:net';
import { isatty } from 'node:tty';
import { debugError, debugSwallow } from '../debug.js';
import { splitFrames, type EngineApi, type ExecState } from '../docker/engine-api.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** The streams an exec is wired to (process, or streams of the caller's); stdin is read only when the mode attaches it. */
export interface ExecStreams {
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?(raw: boolean): unknown };
  stdout: NodeJS.WritableStream & { isTTY?: boolean; rows?: number; columns?: number };
  stderr: NodeJS.WritableStream;
}

const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Writes the engine's multiplexed stream to stdout and stderr, bytes untouched, pausing the connection while a destination is full. */
function demultiplex(socket: Socket, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): void {
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    const { frames, rest } = splitFrames(pending.length === 0 ? chunk : Buffer.concat([pending, chunk]));
    pending = rest;
    for (const frame of frames) {
      const target = frame.stream === 2 ? stderr : stdout;
      if (!target.write(frame.payload)) {
        socket.pause();
        target.once('drain', () => socket.resume());
      }
    }
  });
}

async function exitState(api: EngineApi, execId: string): Promise<ExecState> {
  // The stream can end a moment before the engine records the exit code; an unanswered inspect is tried again.
  let last: ExecState | null = null;
  for (let attempt = 0; attempt < 500; attempt++) {
    last = (await api.inspectExec(execId, 2000).catch(debugSwallow(`inspecting exec ${execId.slice(0, 12)}`))) ?? last;
    if (last !== null && !last.Running) return last;
    await sleep(10);
  }
  return last ?? { Running: false, ExitCode: null, Pid: 0 };
}

/** How an exec is wired to devkit's own stdio. */
export interface ExecMode {
  /** A TTY inside, sized and resized like the terminal: stdin and stdout are both terminals. */
  tty: boolean;
  /** Whether devkit's stdin is passed in. */
  attachStdin: boolean;
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
  const { tty, attachStdin } = mode;
  const stdin = tty || attachStdin ? streams.stdin : null;
  const socket = await api.startExec(execId, tty);
  socket.setNoDelay(true);

  // The inner process's host pid, looked up when the first signal comes. The engine can leave an
  // inspect right after the start unanswered, so each try is bounded and retried.
  let innerPid: Promise<number | null> | null = null;
  const lookUpPid = async (): Promise<number | null> => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const state = await api.inspectExec(execId, 500).catch(debugSwallow(`inspecting exec ${execId.slice(0, 12)}`));
      if (state !== null && (!state.Running || state.Pid > 0)) return state.Running ? state.Pid : null;
      await sleep(25);
    }
    return null;
  };
  const forward = (signal: NodeJS.Signals): void => {
    innerPid ??= lookUpPid();
    void innerPid.then((pid) => {
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
    socket.on('data', (chunk: Buffer) => stdout.write(chunk));
  } else {
    demultiplex(socket, stdout, stderr);
  }
  if (attachStdin) stdin?.pipe(socket); // stdin's end half-closes the connection: EOF inside
  socket.resume(); // startExec hands it over paused, so no output comes before it is wired

  await new Promise<void>((resolve) => {
    socket.on('close', () => resolve());
    socket.on('error', (error) => {
      debugError(`the stream of exec ${execId.slice(0, 12)}`, error);
      resolve();
    });
  });

  stdin?.unpipe(socket);
  if (tty) {
    stdout.removeListener('resize', resize);
    stdin?.setRawMode?.(false);
  }
  stdin?.pause();
  for (const [signal, handler] of handlers) process.removeListener(signal, handler);
  const state = await exitState(api, execId);
  return state.ExitCode ?? 1;
}
