import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { EngineApi } from '../src/docker/engine-api.js';
import { resolveEndpoint } from '../src/docker/endpoint.js';
import {
  ANSWER_LIMITS,
  chunkedReader,
  completeResponse,
  decodeChunked,
  engineRequest,
  engineUpgrade,
  parseResponse,
} from '../src/docker/engine-http.js';
import { describeWithDocker } from './support/docker.js';
import { fakeEngines, unixEndpoint } from './support/fake-engine.js';

const crlf = (...lines: string[]): string => lines.join('\r\n');

// Our own reading of HTTP framing, on bytes written here; the same paths run
// against the real engine below and in every container test.
describe('engine HTTP framing', () => {
  it('reads a Content-Length body and ignores what follows it', () => {
    const answer = parseResponse(Buffer.from(crlf('HTTP/1.1 404 Not Found', 'Content-Length: 5', 'Connection: close', '', 'hello-extra')));
    expect(answer.status).toBe(404);
    expect(answer.body.toString()).toBe('hello');
  });

  it('joins chunks, including binary ones and chunk extensions', () => {
    const binary = Buffer.from([0, 1, 0x0d, 0x0a, 255]);
    const raw = Buffer.concat([Buffer.from('3;ext=1\r\nabc\r\n5\r\n'), binary, Buffer.from('\r\n0\r\n\r\n')]);
    expect(decodeChunked(raw)).toEqual(Buffer.concat([Buffer.from('abc'), binary]));
  });

  it('takes a streamed chunked body apart whatever the reads it arrives in, and knows its end', () => {
    const binary = Buffer.from([0, 1, 0x0d, 0x0a, 255]);
    const raw = Buffer.concat([Buffer.from('3;ext=1\r\nabc\r\n5\r\n'), binary, Buffer.from('\r\n0\r\n\r\n')]);
    for (let cut = 0; cut < raw.length; cut++) {
      const payload: Buffer[] = [];
      const read = chunkedReader((bytes) => payload.push(Buffer.from(bytes)));
      expect(read(raw.subarray(0, cut))).toBe(false);
      expect(read(raw.subarray(cut))).toBe(true);
      expect(Buffer.concat(payload)).toEqual(Buffer.concat([Buffer.from('abc'), binary]));
    }
    expect(() => chunkedReader(() => undefined)(Buffer.from('2\r\nabc\r\n'))).toThrow(/longer than its size/);
    expect(() => chunkedReader(() => undefined)(Buffer.from('zz\r\n'))).toThrow(/malformed chunk size/);
  });

  it('knows when an answer is complete, whatever the reads it arrives in', () => {
    const sized = crlf('HTTP/1.1 200 OK', 'Content-Length: 4', '', 'abcd');
    const chunked = crlf('HTTP/1.1 404 Not Found', 'Transfer-Encoding: chunked', '', '2', 'ab', '2', 'cd', '0', '', '');
    for (const whole of [sized, chunked]) {
      for (let cut = 0; cut < whole.length; cut++) expect(completeResponse(Buffer.from(whole.slice(0, cut)))).toBeNull();
      expect(completeResponse(Buffer.from(whole))?.body.toString()).toBe('abcd');
    }
    expect(completeResponse(Buffer.from(crlf('HTTP/1.1 200 OK', '', 'unframed')))).toBeNull(); // only the end of the connection ends it
  });

  it('reads to the end of the connection when the answer has no framing', () => {
    expect(parseResponse(Buffer.from(crlf('HTTP/1.0 200 OK', '', 'all of it'))).body.toString()).toBe('all of it');
  });

  it('refuses answers cut short or not HTTP', () => {
    expect(() => parseResponse(Buffer.from(crlf('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked', '', 'a', 'abc')))).toThrow(/early/);
    expect(() => parseResponse(Buffer.from(crlf('HTTP/1.1 200 OK', 'Content-Length: 10', '', 'short')))).toThrow(/early/);
    expect(() => parseResponse(Buffer.from('HTTP/1.1 200 OK\r\n'))).toThrow(/before answering/);
    expect(() => parseResponse(Buffer.from(crlf('SSH-2.0-OpenSSH', '', '')))).toThrow(/not HTTP/);
  });

  it('reads no body on 1xx, 204 and 304 answers, nor on any answer to HEAD, whatever Content-Length says', () => {
    for (const status of ['101 Switching Protocols', '204 No Content', '304 Not Modified']) {
      const answer = completeResponse(Buffer.from(crlf(`HTTP/1.1 ${status}`, 'Content-Length: 12', '', '')));
      expect(answer).toEqual({ status: Number(status.slice(0, 3)), body: Buffer.alloc(0) });
    }
    const head = Buffer.from(crlf('HTTP/1.1 200 OK', 'Content-Length: 12', '', ''));
    expect(completeResponse(head)).toBeNull(); // a GET's body is still to come
    expect(completeResponse(head, 'HEAD')).toEqual({ status: 200, body: Buffer.alloc(0) });
    expect(parseResponse(Buffer.from(crlf('HTTP/1.1 204 No Content', '', 'stray'))).body).toEqual(Buffer.alloc(0));
  });

  it('skips interim 1xx answers before the final one', () => {
    const interim = crlf('HTTP/1.1 100 Continue', '', 'HTTP/1.1 103 Early Hints', 'Link: </x>', '', '');
    const whole = `${interim}${crlf('HTTP/1.1 201 Created', 'Content-Length: 2', '', 'ok')}`;
    for (let cut = 0; cut < whole.length; cut++) expect(completeResponse(Buffer.from(whole.slice(0, cut)))).toBeNull();
    expect(completeResponse(Buffer.from(whole))).toEqual({ status: 201, body: Buffer.from('ok') });
    const unframed = parseResponse(Buffer.from(`${interim}${crlf('HTTP/1.1 200 OK', '', 'to the end')}`));
    expect(unframed.body.toString()).toBe('to the end');
  });

  describe('on a socket of our own', () => {
    const serve = fakeEngines();

    it('hands over an upgraded connection with the stream bytes that came with the head', async () => {
      const socketPath = await serve((socket) =>
        socket.once('data', () => socket.end(crlf('HTTP/1.1 101 UPGRADED', 'Upgrade: tcp', '', 'first bytes'))),
      );
      const answer = await engineUpgrade(unixEndpoint(socketPath), { method: 'POST', path: '/exec/x/start', json: '{}' });
      if ('status' in answer) throw new Error(`expected a socket, got status ${answer.status}`);
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.resume();
      await new Promise((resolve) => answer.on('close', resolve));
      expect(Buffer.concat(chunks).toString()).toBe('first bytes');
    });

    it('ends a bodiless answer at its head while the engine keeps the connection open', async () => {
      const socketPath = await serve((socket) =>
        socket.on('data', (request: Buffer) => {
          const modified = request.includes('/modified') ? '304 Not Modified' : '204 No Content';
          const status = request.toString().startsWith('HEAD') ? '200 OK' : modified;
          socket.write(crlf(`HTTP/1.1 ${status}`, 'Content-Length: 10', '', ''));
        }),
      );
      for (const request of [
        { method: 'HEAD', path: '/x' },
        { method: 'POST', path: '/modified' },
        { method: 'DELETE', path: '/x' },
      ]) {
        expect((await engineRequest(unixEndpoint(socketPath), { ...request, timeoutMs: 2000 })).body).toEqual(Buffer.alloc(0));
      }
    });

    it('reads the final answer after an interim one, on a request and on an upgrade', async () => {
      const socketPath = await serve((socket) =>
        socket.once('data', (request: Buffer) => {
          const upgrade = crlf('HTTP/1.1 101 UPGRADED', 'Upgrade: tcp', '', 'stream');
          const sized = crlf('HTTP/1.1 200 OK', 'Content-Length: 2', '', 'ok');
          socket.write(crlf('HTTP/1.1 100 Continue', '', request.includes('/start') ? upgrade : sized));
        }),
      );
      const answer = await engineRequest(unixEndpoint(socketPath), { method: 'GET', path: '/x', timeoutMs: 2000 });
      expect({ status: answer.status, body: answer.body.toString() }).toEqual({ status: 200, body: 'ok' });
      const upgraded = await engineUpgrade(unixEndpoint(socketPath), { method: 'POST', path: '/exec/x/start', json: '{}' });
      if ('status' in upgraded) throw new Error(`expected a socket, got status ${upgraded.status}`);
      const first = await new Promise<Buffer>((resolve) => upgraded.once('data', resolve).resume());
      upgraded.destroy();
      expect(first.toString()).toBe('stream');
    });

    /** An engine that answers with `head`, then writes `piece` after piece until devkit hangs up. */
    const flood = (head: string, piece: string) => (socket: net.Socket) => {
      const pump = (): void => {
        while (!socket.destroyed && socket.write(piece));
        if (!socket.destroyed) socket.once('drain', pump);
      };
      socket.once('data', () => socket.write(head, pump));
    };
    const small = { headBytes: 1024, bodyBytes: 64 * 1024 };

    it('stops reading a body past the limit, whatever its framing', { timeout: 10_000 }, async () => {
      const piece = 'x'.repeat(4096);
      for (const head of [crlf('HTTP/1.1 200 OK', '', ''), crlf('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked', '', '')]) {
        const chunk = head.includes('chunked') ? crlf(piece.length.toString(16), piece, '') : piece;
        const socketPath = await serve(flood(head, chunk));
        const request = engineRequest(unixEndpoint(socketPath), { method: 'GET', path: '/x', limits: small });
        await expect(request).rejects.toThrow(/^the engine's answer has a body over 64 KiB, more than devkit reads$/);
      }
    });

    it('stops reading a head past the limit', { timeout: 10_000 }, async () => {
      const socketPath = await serve(flood('HTTP/1.1 200 OK\r\n', 'X-Filler: yes\r\n'));
      await expect(engineRequest(unixEndpoint(socketPath), { method: 'GET', path: '/x', limits: small })).rejects.toThrow(
        /a head over 1 KiB/,
      );
    });

    it('refuses a body announced past the limit before reading it, in one line naming the call', async () => {
      expect(ANSWER_LIMITS).toEqual({ headBytes: 64 * 1024, bodyBytes: 64 * 1024 * 1024 });
      const head = crlf('HTTP/1.1 200 OK', `Content-Length: ${64 * 1024 * 1024 + 1}`, '', 'x');
      const socketPath = await serve((socket) => socket.once('data', () => socket.write(head)));
      await expect(new EngineApi(unixEndpoint(socketPath)).request('GET', '/info', undefined, 2000)).rejects.toThrow(
        /^the engine's answer has a body over 64 MiB, more than devkit reads \(GET \/info\)$/,
      );
    });

    it('reads a large body that arrives in many reads of all sizes unchanged, sized or chunked', async () => {
      const body = randomBytes(3 * 1024 * 1024);
      const pieces = (bytes: Buffer): Buffer[] => {
        const out: Buffer[] = [];
        for (let at = 0, size = 1; at < bytes.length; at += size, size = ((size * 7) % 70_000) + 1) out.push(bytes.subarray(at, at + size));
        return out;
      };
      const chunks = pieces(body).flatMap((piece) => [Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]);
      const chunked = Buffer.concat([...chunks, Buffer.from('0\r\n\r\n')]);
      for (const [framing, payload] of [
        [`Content-Length: ${body.length}`, body],
        ['Transfer-Encoding: chunked', chunked],
      ] as const) {
        const answer = async (socket: net.Socket): Promise<void> => {
          for (const piece of pieces(Buffer.concat([Buffer.from(crlf('HTTP/1.1 200 OK', framing, '', '')), payload]))) {
            if (!socket.write(piece)) await new Promise((resolve) => socket.once('drain', resolve));
          }
        };
        const socketPath = await serve((socket) => socket.once('data', () => void answer(socket)));
        expect((await engineRequest(unixEndpoint(socketPath), { method: 'GET', path: '/x', timeoutMs: 10_000 })).body.equals(body)).toBe(
          true,
        );
      }
    });

    it('gives up on an answer that is not whole in time, though the engine sends a byte now and then', { timeout: 10_000 }, async () => {
      const socketPath = await serve((socket) => {
        const drip = setInterval(() => socket.write('X'), 50);
        socket.on('close', () => clearInterval(drip));
      });
      const started = performance.now();
      await expect(engineRequest(unixEndpoint(socketPath), { method: 'GET', path: '/x', timeoutMs: 300 })).rejects.toThrow(
        /^no answer in 300 ms$/,
      );
      expect(performance.now() - started).toBeLessThan(2000);
    });

    it('gives up on an engine that does not answer in time, as an unreachable engine', async () => {
      const socketPath = await serve(() => undefined);
      await expect(new EngineApi(unixEndpoint(socketPath)).request('GET', '/_ping', undefined, 200)).rejects.toThrow(
        /cannot reach the Docker engine .*no answer in 200 ms/,
      );
    });
  });
});

describeWithDocker('engine HTTP against the real engine', () => {
  const api = new EngineApi(resolveEndpoint(process.env));

  it('reads chunked and sized answers as the docker CLI does', async () => {
    const cli = await execa('docker', ['info', '--format', '{{.ID}} {{.ServerVersion}}']);
    const info = await api.request<{ ID: string; ServerVersion: string }>('GET', '/info'); // several KB: chunked
    const version = await api.version();
    expect(`${info.ID} ${info.ServerVersion}`).toBe(cli.stdout.trim());
    expect(version.Version).toBe(info.ServerVersion);
    expect(await api.request('GET', '/_ping')).toBe('OK'); // plain text, sized
  });

  it("passes on the engine's own message when it refuses", async () => {
    expect(await api.findContainer('devkit-test-no-such-container')).toBeNull();
    await expect(api.startExec('0'.repeat(64), false)).rejects.toThrow(/docker engine: No such exec instance.*-> 404\)$/);
  });
});
