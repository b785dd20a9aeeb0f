import { Readable, Transform, type Duplex } from 'node:stream';
import { dialEngine } from './dial.js';
import type { EngineEndpoint } from './endpoint.js';

/**
 * HTTP/1.1 to the Docker engine over a connection dial.ts makes (its unix
 * socket, TCP, TLS or ssh), one connection per request. exec-cd is measured against `docker exec`, a
 * Go program: node:http's client costs about 7 ms more than this on a cold
 * start (its first request alone is 10 to 13 ms against 5 here), which is
 * most of what separated exec-cd from its 1.5x target. The engine is the only
 * peer, so only what it sends is read: a status line, headers, and a body
 * framed by Content-Length, chunked, or the end of the connection, with
 * HTTP/1.1's rules for answers without a body and interim (1xx) answers.
 */

export interface EngineHttpRequest {
  method: string;
  /** The path with its query, already encoded. */
  path: string;
  /** A JSON body, sent with its type and length. */
  json?: string;
  /** Abandons the request when the engine has not answered in full in time (an engine sending a byte now and then too). */
  timeoutMs?: number;
  /** How much of the answer is read at most: ANSWER_LIMITS unless a test sets less. */
  limits?: AnswerLimits;
}

export interface AnswerLimits {
  headBytes: number;
  bodyBytes: number;
}

/**
 * The engine's answers on these paths are JSON of a few KB (a /system/df or
 * a long container list, a few MB at most); past these sizes it is not
 * sending what devkit asked for, and reading on would only fill memory.
 */
export const ANSWER_LIMITS: Readonly<AnswerLimits> = { headBytes: 64 * 1024, bodyBytes: 64 * 1024 * 1024 };

/** An answer larger than the limits: it is not read further. */
export class AnswerTooLargeError extends Error {
  constructor(part: 'head' | 'body', limit: number) {
    super(`the engine's answer has a ${part} over ${sizeText(limit)}, more than devkit reads`);
    this.name = 'AnswerTooLargeError';
  }
}

function sizeText(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  return bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}

export interface EngineHttpResponse {
  status: number;
  body: Buffer;
}

interface ResponseHead {
  status: number;
  headers: Map<string, string>;
  /** Where the body starts in the bytes read. */
  bodyStart: number;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** The request's head and JSON body; with `streamedBody`, the head of a request whose body follows in chunks. */
function requestText(request: EngineHttpRequest, extraHeaders: readonly string[], streamedBody = false): string {
  const lines = [`${request.method} ${request.path} HTTP/1.1`, 'Host: docker', 'User-Agent: devkit', ...extraHeaders];
  if (streamedBody) lines.push('Content-Type: application/x-tar', 'Transfer-Encoding: chunked');
  else if (request.json !== undefined) lines.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(request.json)}`);
  else if (request.method !== 'GET' && request.method !== 'HEAD') lines.push('Content-Length: 0');
  return `${lines.join('\r\n')}\r\n\r\n${request.json ?? ''}`;
}

/** The status line and headers of the response starting at `from`, once all of them have arrived; null before. */
function parseOneHead(bytes: Buffer, from: number): ResponseHead | null {
  const end = bytes.indexOf(HEAD_END, from);
  if (end < 0) return null;
  const [statusLine = '', ...headerLines] = bytes.subarray(from, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
  if (status === undefined) throw new Error(`the engine answered something that is not HTTP: ${JSON.stringify(statusLine.slice(0, 80))}`);
  const headers = new Map<string, string>();
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(status), headers, bodyStart: end + HEAD_END.length };
}

/** An interim answer (100 Continue, 103 Early Hints): a head alone, before the real one. 101 is final: the upgrade. */
const isInterim = (status: number): boolean => status >= 100 && status < 200 && status !== 101;

/** The final answer's status line and headers, past any interim answers, once all of them have arrived; null before. */
export function parseHead(bytes: Buffer): ResponseHead | null {
  let head = parseOneHead(bytes, 0);
  while (head !== null && isInterim(head.status)) head = parseOneHead(bytes, head.bodyStart);
  return head;
}

/** The payload of a chunked body; null while it is incomplete; throws when it is malformed. */
export function decodeChunked(raw: Buffer): Buffer | null {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', offset);
    if (lineEnd < 0) return null;
    const sizeText = (raw.subarray(offset, lineEnd).toString('latin1').split(';')[0] ?? '').trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText))
      throw new Error(`the engine sent a malformed chunk size ${JSON.stringify(sizeText.slice(0, 20))}`);
    const size = Number.parseInt(sizeText, 16);
    const start = lineEnd + 2;
    if (size === 0) {
      // The last chunk; then trailers (the engine sends none) and an empty line.
      const ended = raw.subarray(start, start + 2).toString('latin1') === '\r\n' || raw.indexOf('\r\n\r\n', start) >= 0;
      return ended ? Buffer.concat(parts) : null;
    }
    if (raw.length < start + size + 2) return null;
    parts.push(raw.subarray(start, start + size));
    offset = start + size + 2;
  }
}

/** RFC 9112 section 6.3: these answers end with their head, whatever Content-Length says (HEAD's gives the size a GET would get). */
function hasNoBody(status: number, method: string): boolean {
  return method === 'HEAD' || status < 200 || status === 204 || status === 304;
}

/**
 * Whether `raw` may hold a whole chunked body, which always ends with an empty
 * line: decoding is put off till then, as walking every chunk on each read is
 * quadratic (64 MiB in 4 KiB chunks took 5.5 s).
 */
const endsChunked = (raw: Buffer): boolean => raw.subarray(-4).equals(HEAD_END);

/**
 * The body as the head frames it (none, chunks, Content-Length, or else
 * everything up to the end of the connection, once it has `ended`); null
 * while it is incomplete.
 */
function bodyOf(head: ResponseHead, method: string, raw: Buffer, ended: boolean): Buffer | null {
  if (hasNoBody(head.status, method)) return raw.subarray(0, 0);
  if (head.headers.get('transfer-encoding')?.toLowerCase() === 'chunked') return ended || endsChunked(raw) ? decodeChunked(raw) : null;
  const length = head.headers.get('content-length');
  if (length === undefined) return ended ? raw : null;
  return raw.length >= Number(length) ? raw.subarray(0, Number(length)) : null;
}

/** The whole answer to a `method` request as soon as all of it has arrived; null before. */
export function completeResponse(bytes: Buffer, method = 'GET'): EngineHttpResponse | null {
  const head = parseHead(bytes);
  const body = head === null ? null : bodyOf(head, method, bytes.subarray(head.bodyStart), false);
  return head === null || body === null ? null : { status: head.status, body };
}

/**
 * The answer to a `method` request when the connection has ended: what
 * framing it has must be complete; without framing the body runs to the end.
 */
export function parseResponse(bytes: Buffer, method = 'GET'): EngineHttpResponse {
  const head = parseHead(bytes);
  if (head === null) throw new Error('the engine closed the connection before answering');
  const body = bodyOf(head, method, bytes.subarray(head.bodyStart), true);
  if (body === null) throw new Error('the engine ended its answer early');
  return { status: head.status, body };
}

/**
 * Throws once an answer is past the limits: its head before it is complete
 * or once it is, and its body as read so far or as Content-Length announces it.
 */
function checkSize(read: Buffer, head: ResponseHead | null, method: string, limits: AnswerLimits): void {
  if ((head?.bodyStart ?? read.length) > limits.headBytes) throw new AnswerTooLargeError('head', limits.headBytes);
  if (head === null || hasNoBody(head.status, method)) return;
  const announced = Number(head.headers.get('content-length') ?? 0);
  if (Math.max(read.length - head.bodyStart, announced) > limits.bodyBytes) throw new AnswerTooLargeError('body', limits.bodyBytes);
}

/**
 * Joins what arrives, in a buffer grown by doubling; returns all read so far.
 * Joining each read onto all before it made reading quadratic: 16 MiB took
 * 1.4 s, and the 64 MiB limit ran out of memory.
 */
function accumulator(): (chunk: Buffer) => Buffer {
  let store: Buffer = Buffer.alloc(0);
  let length = 0;
  return (chunk) => {
    if (length > 0 && length + chunk.length > store.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * store.length, length + chunk.length));
      store.copy(grown, 0, 0, length);
      store = grown;
    }
    if (length === 0)
      store = chunk; // most answers come in one read: kept as it is, not copied
    else chunk.copy(store, length);
    length += chunk.length;
    return store.subarray(0, length);
  };
}

/**
 * Reads the answer to `request` off `socket`: resolves with it once complete
 * (or once the connection ends), and closes the connection; fails once it is
 * past the limits or its time. `onHead` may take the connection over instead
 * (an upgrade) by returning true.
 */
function readAnswer(
  socket: Duplex,
  request: EngineHttpRequest,
  settle: { resolve: (answer: EngineHttpResponse) => void; reject: (error: unknown) => void },
  onHead: (head: ResponseHead, read: Buffer) => boolean = () => false,
): void {
  const { method, limits = ANSWER_LIMITS } = request;
  const append = accumulator();
  let read: Buffer = Buffer.alloc(0);
  let settled = false;
  const { timeoutMs } = request;
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => fail(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
  const stopReading = (): void => {
    settled = true;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('error', fail);
  };
  const fail = (error: unknown): void => {
    if (settled) return;
    stopReading();
    socket.destroy();
    settle.reject(error);
  };
  const succeed = (answer: EngineHttpResponse): void => {
    stopReading();
    socket.destroy();
    settle.resolve(answer);
  };
  function onData(chunk: Buffer): void {
    read = append(chunk);
    try {
      const head = parseHead(read);
      if (head === null) {
        checkSize(read, head, method, limits);
        return;
      }
      if (onHead(head, read)) {
        stopReading();
        return;
      }
      checkSize(read, head, method, limits);
      const body = bodyOf(head, method, read.subarray(head.bodyStart), false);
      if (body !== null) succeed({ status: head.status, body });
    } catch (error) {
      fail(error);
    }
  }
  function onEnd(): void {
    try {
      succeed(parseResponse(read, method));
    } catch (error) {
      fail(error);
    }
  }
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('error', fail);
}

/** Sends one request and resolves with the whole answer; rejects on a connection error or timeout. */
export function engineRequest(endpoint: EngineEndpoint, request: EngineHttpRequest): Promise<EngineHttpResponse> {
  return new Promise((resolve, reject) => {
    const socket = dialEngine(endpoint);
    readAnswer(socket, request, { resolve, reject });
    socket.write(requestText(request, ['Connection: close']));
  });
}

/**
 * Sends a request that takes over the connection (exec start): resolves with
 * the socket, paused, carrying the raw stream from the first byte after the
 * head, once the engine agrees; resolves with the engine's answer when it refuses.
 */
export function engineUpgrade(endpoint: EngineEndpoint, request: EngineHttpRequest): Promise<Duplex | EngineHttpResponse> {
  return new Promise((resolve, reject) => {
    const socket = dialEngine(endpoint);
    readAnswer(socket, request, { resolve, reject }, (head, read) => {
      if (head.status >= 300) return false; // a refusal is read like any answer
      socket.pause();
      const rest = read.subarray(head.bodyStart);
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
      return true;
    });
    socket.write(requestText(request, ['Connection: Upgrade', 'Upgrade: tcp']));
  });
}

/**
 * A request whose answer is streamed rather than read whole (an image's tar,
 * hundreds of MB: past ANSWER_LIMITS), and whose body, when given, is streamed
 * too, in chunks. Resolves once the answer's head has arrived, with its body as
 * a stream that ends with the answer (and closes the connection) or fails when
 * the connection ends early.
 */
export function engineStream(
  endpoint: EngineEndpoint,
  request: { method: string; path: string; body?: Readable; headers?: readonly string[] },
): Promise<{ status: number; body: Readable }> {
  return new Promise((resolve, reject) => {
    const socket = dialEngine(endpoint);
    const append = accumulator();
    const fail = (error: Error): void => {
      socket.destroy();
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      const read = append(chunk);
      let head: ResponseHead | null;
      try {
        head = parseHead(read);
        if ((head?.bodyStart ?? read.length) > ANSWER_LIMITS.headBytes) throw new AnswerTooLargeError('head', ANSWER_LIMITS.headBytes);
      } catch (error) {
        fail(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      if (head === null) return;
      socket.off('data', onData);
      socket.off('error', fail);
      socket.off('end', onEarlyEnd);
      resolve({ status: head.status, body: answerBody(socket, head, request.method, read.subarray(head.bodyStart)) });
    };
    const onEarlyEnd = (): void => fail(new Error('the engine closed the connection before answering'));
    socket.on('data', onData);
    socket.on('error', fail);
    socket.on('end', onEarlyEnd);
    const headers = ['Connection: close', ...(request.headers ?? [])];
    socket.write(requestText({ method: request.method, path: request.path }, headers, request.body !== undefined));
    if (request.body !== undefined) {
      const body = request.body;
      body.on('error', fail);
      // The connection stays open after the body: the answer comes back on it.
      body.pipe(chunkEncoder()).pipe(socket, { end: false });
    }
  });
}

/** A request body in HTTP/1.1 chunks, ending with the last, empty one. */
function chunkEncoder(): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (chunk.length > 0) this.push(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]));
      done();
    },
    flush(done) {
      this.push('0\r\n\r\n');
      done();
    },
  });
}

/**
 * Takes a chunked body apart as it arrives, whatever the reads it comes in:
 * each call hands the payload bytes in `bytes` to `emit`, and returns true once
 * the last chunk and its (ignored) trailers have come.
 */
export function chunkedReader(emit: (payload: Buffer) => void): (bytes: Buffer) => boolean {
  let state: 'size' | 'data' | 'data-end' | 'trailer' | 'done' = 'size';
  let remaining = 0;
  let line = Buffer.alloc(0);
  return (bytes) => {
    let offset = 0;
    while (offset < bytes.length && state !== 'done') {
      if (state === 'data') {
        const take = Math.min(remaining, bytes.length - offset);
        emit(bytes.subarray(offset, offset + take));
        remaining -= take;
        offset += take;
        if (remaining === 0) state = 'data-end';
        continue;
      }
      const lf = bytes.indexOf(0x0a, offset);
      if (lf < 0) {
        line = Buffer.concat([line, bytes.subarray(offset)]);
        if (line.length > 4096) throw new Error('the engine sent a chunk line over 4 KiB');
        break;
      }
      const text = Buffer.concat([line, bytes.subarray(offset, lf)])
        .toString('latin1')
        .replace(/\r$/, '');
      line = Buffer.alloc(0);
      offset = lf + 1;
      if (state === 'data-end') {
        if (text !== '') throw new Error('the engine sent a chunk longer than its size');
        state = 'size';
      } else if (state === 'trailer') {
        if (text === '') state = 'done';
      } else {
        const sizeText = (text.split(';')[0] ?? '').trim();
        if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText))
          throw new Error(`the engine sent a malformed chunk size ${JSON.stringify(sizeText.slice(0, 20))}`);
        remaining = Number.parseInt(sizeText, 16);
        state = remaining === 0 ? 'trailer' : 'data';
      }
    }
    return state === 'done';
  };
}

/** The body of a streamed answer, read off the socket as the reader reads it (the socket pauses while the reader is behind). */
function answerBody(socket: Duplex, head: ResponseHead, method: string, first: Buffer): Readable {
  const body = new Readable({ read: () => void socket.resume() });
  const emit = (payload: Buffer): void => {
    if (!body.push(payload)) socket.pause();
  };
  const length = head.headers.get('content-length');
  let remaining = length === undefined ? Infinity : Number(length);
  const chunked = head.headers.get('transfer-encoding')?.toLowerCase() === 'chunked';
  const readChunks = chunkedReader(emit);
  let ended = hasNoBody(head.status, method) || remaining === 0;
  const finish = (): void => {
    ended = true;
    socket.destroy();
    body.push(null);
  };
  const take = (bytes: Buffer): void => {
    if (ended) return;
    try {
      if (chunked) {
        if (readChunks(bytes)) finish();
        return;
      }
      const part = bytes.subarray(0, Math.min(bytes.length, remaining));
      remaining -= part.length;
      if (part.length > 0) emit(part);
      if (remaining === 0) finish();
    } catch (error) {
      ended = true;
      socket.destroy();
      body.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  };
  if (ended) finish();
  else take(first);
  socket.on('data', take);
  socket.on('end', () => {
    if (ended) return;
    if (!chunked && length === undefined) finish();
    else {
      ended = true;
      body.destroy(new Error('the engine ended its answer early'));
    }
  });
  socket.on('error', (error: Error) => {
    if (!ended) body.destroy(error);
  });
  socket.on('close', () => {
    if (!ended) body.destroy(new Error('the connection to the engine closed before its answer ended'));
  });
  body.on('close', () => socket.destroy());
  socket.resume();
  return body;
}
