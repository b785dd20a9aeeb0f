import { afterEach, describe, expect, it, vi } from 'vitest';
import { EngineApi } from '../src/docker/engine-api.js';
import { DevkitError } from '../src/errors.js';
import { exitState, innerPid } from '../src/docker/exec-stream.js';
import { answering, fakeEngines, jsonAnswer, unixEndpoint } from './support/fake-engine.js';

const EXEC_ID = '0123456789abcdef'.repeat(4);
const INSPECT = `GET /v1.41/exec/${EXEC_ID}/json HTTP/1.1`;

/** How a promise settles, and after how many ms. */
async function settle<T>(promise: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = performance.now();
  try {
    const value = await promise;
    return { ms: performance.now() - started, value };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

describe('waiting for the engine to report on an exec', () => {
  const serve = fakeEngines();
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });
  /** An engine that answers inspects of EXEC_ID with `answer` (null: never) and nothing else. */
  const engine = async (answer: () => string | null): Promise<EngineApi> =>
    new EngineApi(
      unixEndpoint(await serve(answering((line) => (line === INSPECT ? answer() : jsonAnswer(404, { message: `no fake for ${line}` }))))),
    );

  it('gives up on the exit code within its bound when inspects are never answered', { timeout: 5000 }, async () => {
    const { ms, error } = await settle(exitState(await engine(() => null), EXEC_ID, 400));
    expect(error).toBeInstanceOf(DevkitError);
    expect((error as Error).message).toMatch(
      /^the Docker engine did not report the exit code of exec 0123456789ab within 0\.4 s \(no inspect answered: no answer in \d+ ms\)$/,
    );
    expect(ms).toBeGreaterThanOrEqual(390);
    expect(ms).toBeLessThan(1500);
  });

  it('gives up on the exit code within its bound when the engine says the exec runs for ever', { timeout: 5000 }, async () => {
    const api = await engine(() => jsonAnswer(200, { Running: true, ExitCode: null, Pid: 42 }));
    const { ms, error } = await settle(exitState(api, EXEC_ID, 400));
    expect((error as Error).message).toBe(
      'the Docker engine did not report the exit code of exec 0123456789ab within 0.4 s (it still says the exec is running)',
    );
    expect(ms).toBeLessThan(1500);
  });

  it('gives up on the pid within its bound, answered or not', { timeout: 5000 }, async () => {
    const cases = [
      { answer: () => null, reason: /\(no inspect answered: no answer in \d+ ms\)$/ },
      { answer: () => jsonAnswer(200, { Running: true, ExitCode: null, Pid: 0 }), reason: /\(it reports no pid for it yet\)$/ },
    ];
    for (const { answer, reason } of cases) {
      const { ms, error } = await settle(innerPid(await engine(answer), EXEC_ID, 300));
      expect(error).toBeInstanceOf(DevkitError);
      expect((error as Error).message).toMatch(/^the Docker engine did not report the pid of exec 0123456789ab within 0\.3 s /);
      expect((error as Error).message).toMatch(reason);
      expect(ms).toBeLessThan(1500);
    }
  });

  it('reports the exit code and the pid once the engine does', async () => {
    const states = [
      { Running: true, ExitCode: null, Pid: 0 },
      { Running: true, ExitCode: null, Pid: 4242 },
      { Running: false, ExitCode: 3, Pid: 0 },
    ];
    let inspects = 0;
    const api = await engine(() => jsonAnswer(200, states[Math.min(inspects++, states.length - 1)]));
    expect(await innerPid(api, EXEC_ID, 2000)).toBe(4242);
    expect(await exitState(api, EXEC_ID, 2000)).toMatchObject({ ExitCode: 3 });
    expect(await innerPid(api, EXEC_ID, 2000)).toBeNull(); // it has ended
  });

  it('shows the inspects it tried again under DEVKIT_DEBUG, and nothing otherwise', async () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => written.push(String(chunk)) > 0);
    for (const debug of ['', '1']) {
      vi.stubEnv('DEVKIT_DEBUG', debug);
      let inspects = 0;
      const ended = jsonAnswer(200, { Running: false, ExitCode: 0, Pid: 0 });
      const api = await engine(() => (inspects++ < 2 ? jsonAnswer(500, { message: 'busy' }) : ended));
      expect(await exitState(api, EXEC_ID, 2000)).toMatchObject({ ExitCode: 0 });
    }
    const line = `devkit: debug: inspecting exec 0123456789ab: docker engine: busy (GET /exec/${EXEC_ID}/json -> 500)\n`;
    expect(written.join('')).toBe(line.repeat(2));
  });
});
