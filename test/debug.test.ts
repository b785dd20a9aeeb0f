import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { debugSwallow } from '../src/debug.js';
import { EngineApi } from '../src/docker/engine-api.js';
import { answering, fakeEngines, jsonAnswer, unixEndpoint } from './support/fake-engine.js';

/** What devkit writes to stderr during a test, instead of writing it. */
function captureStderr(): () => string {
  const written: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => written.push(String(chunk)) > 0);
  return () => written.join('');
}

describe('errors devkit drops on purpose', () => {
  const serve = fakeEngines();
  let stderr: () => string;
  beforeEach(() => {
    stderr = captureStderr();
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it('are one line each on stderr under DEVKIT_DEBUG, and nothing otherwise', () => {
    vi.stubEnv('DEVKIT_DEBUG', '1');
    expect(debugSwallow('reading the moon')(new Error('no such\nmoon'))).toBeNull();
    vi.stubEnv('DEVKIT_DEBUG', '');
    expect(debugSwallow('reading the sun')(new Error('too bright'))).toBeNull();
    expect(stderr()).toBe('devkit: debug: reading the moon: no such; moon\n');
  });

  it('show where they were dropped: a resize of an exec the engine no longer has', async () => {
    const socketPath = await serve(answering(() => jsonAnswer(404, { message: 'No such exec instance: 0123456789abcdef' })));
    const api = new EngineApi(unixEndpoint(socketPath));
    await api.resizeExec('0123456789abcdef', 24, 80);
    expect(stderr()).toBe('');
    vi.stubEnv('DEVKIT_DEBUG', '1');
    await api.resizeExec('0123456789abcdef', 24, 80);
    expect(stderr()).toBe(
      'devkit: debug: resizing exec 0123456789ab: docker engine: No such exec instance: 0123456789abcdef' +
        ' (POST /exec/0123456789abcdef/resize?h=24&w=80 -> 404)\n',
    );
  });
});
