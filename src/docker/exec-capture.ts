import { PassThrough, Readable } from 'node:stream';
import type { EngineApi } from './engine-api.js';
import { runExec } from './exec-stream.js';

export interface CapturedExec {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a created exec with `input` as its stdin (nothing: EOF at once) and returns its exit code and what it printed. */
export async function execCaptured(api: EngineApi, execId: string, input: Buffer | string = ''): Promise<CapturedExec> {
  const raw = await execCapturedBytes(api, execId, input);
  return { ...raw, stdout: raw.stdout.toString('utf8') };
}

/** An exec printed more than the caller would hold: it was cut off. */
export class ExecOutputTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`printed more than ${limit} bytes`);
  }
}

/**
 * execCaptured, with stdout as the bytes it printed (a git bundle, say). With
 * `maxStdoutBytes`, an exec printing more is cut off (ExecOutputTooLarge):
 * what an agent's container prints is the agent's to make as large as it likes.
 */
export async function execCapturedBytes(
  api: EngineApi,
  execId: string,
  input: Buffer | string = '',
  options: { maxStdoutBytes?: number } = {},
): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  const limit = options.maxStdoutBytes ?? Infinity;
  const cutOff = new AbortController();
  let size = 0;
  out.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) cutOff.abort();
    else chunks.stdout.push(chunk);
  });
  err.on('data', (chunk: Buffer) => chunks.stderr.push(chunk));
  const stdin = Readable.from(input.length === 0 ? [] : [typeof input === 'string' ? Buffer.from(input) : input]);
  const code = await runExec(api, execId, { stdin, stdout: out, stderr: err }, { tty: false, attachStdin: true, abort: cutOff.signal });
  if (cutOff.signal.aborted) throw new ExecOutputTooLarge(limit);
  return { code, stdout: Buffer.concat(chunks.stdout), stderr: Buffer.concat(chunks.stderr).toString('utf8') };
}
