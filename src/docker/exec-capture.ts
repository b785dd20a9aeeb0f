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

/** execCaptured, with stdout as the bytes it printed (a git bundle, say). */
export async function execCapturedBytes(
  api: EngineApi,
  execId: string,
  input: Buffer | string = '',
): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  out.on('data', (chunk: Buffer) => chunks.stdout.push(chunk));
  err.on('data', (chunk: Buffer) => chunks.stderr.push(chunk));
  const stdin = Readable.from(input.length === 0 ? [] : [typeof input === 'string' ? Buffer.from(input) : input]);
  const code = await runExec(api, execId, { stdin, stdout: out, stderr: err }, { tty: false, attachStdin: true });
  return { code, stdout: Buffer.concat(chunks.stdout), stderr: Buffer.concat(chunks.stderr).toString('utf8') };
}
