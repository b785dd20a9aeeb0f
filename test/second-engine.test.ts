import { existsSync } from 'node:fs';
import net from 'node:net';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EngineApi, engineClient } from '../src/docker/engine-api.js';
import { resolveEndpoint } from '../src/docker/endpoint.js';
import { ensureImagesOn } from '../src/docker/image-transfer.js';
import { describeWithDocker } from './support/docker.js';
import { ENGINE_SOCKET, relayTo, type Relay } from './support/engine-relay.js';
import { recordingIo } from './support/io.js';
import { startSecondEngine, type SecondEngine } from './support/second-engine.js';

/**
 * A second engine (scripts/second-engine.sh, test/support/second-engine.ts)
 * stands in for a remote one: reached over TCP through a docker context, it
 * gets the local engine's images through the Engine API (image-transfer.ts).
 * One engine for the whole file.
 */

const IMAGE = 'devkit/ports:local';

/** What the machine has of network namespaces and links: the second engine's must be gone after destroy. */
async function networkState(): Promise<{ namespaces: string; links: string[] }> {
  const namespaces = (await execa('ip', ['netns', 'list'])).stdout;
  const links = (await execa('ip', ['-o', 'link'])).stdout.split('\n').map((line) => line.split(':')[1]?.trim() ?? '');
  return { namespaces, links: links.sort() };
}

/**
 * A relay on 127.0.0.1 to the local engine that cuts an image export short
 * after `cutAfter` bytes of its answer, as a source engine failing mid-copy would.
 */
function cuttingRelay(cutAfter: number): Promise<Relay> {
  return relayTo(
    net.createServer((client) => {
      const engine = net.connect(ENGINE_SOCKET);
      let exporting = false;
      let sent = 0;
      client.once('data', (first: Buffer) => {
        exporting = first.toString('latin1').startsWith('GET /v1.41/images/get');
      });
      client.pipe(engine);
      engine.on('data', (chunk: Buffer) => {
        sent += chunk.length;
        if (exporting && sent > cutAfter) {
          engine.destroy();
          client.destroy();
        } else client.write(chunk);
      });
      engine.on('end', () => client.end());
      client.on('error', () => engine.destroy());
      engine.on('error', () => client.destroy());
    }),
  );
}

describeWithDocker('a second engine, reached over TCP as a remote one would be', () => {
  let engine: SecondEngine | undefined;
  let before: Awaited<ReturnType<typeof networkState>>;
  const local = engineClient(process.env);
  const second = (): SecondEngine => {
    if (engine === undefined) throw new Error('no second engine');
    return engine;
  };
  /** devkit's client for the engine the test env names (DOCKER_CONFIG, DOCKER_CONTEXT), as a devkit run would pick it. */
  const remote = (): EngineApi => new EngineApi(resolveEndpoint(second().env));

  beforeAll(async () => {
    before = await networkState();
    engine = await startSecondEngine();
  }, 120_000);

  afterAll(async () => {
    if (engine === undefined) return;
    const { dir } = engine;
    await engine.destroy();
    expect(existsSync(dir)).toBe(false);
    expect(await networkState()).toEqual(before);
    expect((await execa('pgrep', ['-f', dir], { reject: false })).stdout).toBe('');
  }, 120_000);

  it('answers over TCP through its docker context, and is not the local engine', async () => {
    const { address, contextName, dir } = second();
    expect(remote().endpoint).toEqual({ kind: 'tcp', host: address, port: 2375, tls: null, context: contextName });
    const [here, there] = await Promise.all([
      local.request<{ ID: string }>('GET', '/info'),
      remote().request<{ ID: string; DockerRootDir: string }>('GET', '/info'),
    ]);
    expect(there.ID).not.toBe(here.ID);
    expect(there.DockerRootDir).toBe(`${dir}/data`);
    // The docker CLI sees the same engine through the same env.
    const cli = await execa('docker', ['info', '--format', '{{.ID}}'], { env: second().env, extendEnv: false });
    expect(cli.stdout).toBe(there.ID);
    // Its dockerd listens on no unix socket outside its own folder (none a test could reach by accident).
    const pid = (await execa('cat', [`${dir}/dockerd.pid`])).stdout.trim();
    const sockets = (await execa('ss', ['-xlpn'])).stdout
      .split('\n')
      .filter((line) => line.includes(`pid=${pid},`))
      .map((line) => line.split(/\s+/)[4] ?? '');
    expect(sockets.filter((socket) => !socket.startsWith(`${dir}/`))).toEqual([]);
  });

  it('gets an image it lacks from the local engine through the Engine API, once, with the bytes shown on a terminal', async () => {
    const source = await local.inspectImage(IMAGE);
    expect(source).not.toBeNull();
    expect(await remote().inspectImage(IMAGE)).toBeNull();

    const terminal = { ...recordingIo(), interactive: true, columns: 300 };
    expect(await ensureImagesOn(remote(), [IMAGE], { source: local, io: terminal })).toEqual([
      { tag: IMAGE, id: source?.id, action: 'copied' },
    ]);
    expect((await remote().inspectImage(IMAGE))?.id).toBe(source?.id);
    expect(terminal.logs.slice(1, -1)).toContainEqual(expect.stringMatching(new RegExp(`^copying ${IMAGE} to .*: \\d+\\.\\d MiB$`)));
    expect(terminal.logs.at(-1)).toMatch(
      new RegExp(`^copying ${IMAGE} to tcp://${second().address}:2375 .*: \\d+\\.\\d MiB in \\d+\\.\\d s$`),
    );

    // Again: nothing to copy. Under another name of the same image: only the tag goes across.
    const alias = `devkit/engine2-test:${process.pid}`;
    await execa('docker', ['tag', IMAGE, alias]);
    try {
      const again = recordingIo();
      expect(await ensureImagesOn(remote(), [IMAGE, alias], { source: local, io: again })).toEqual([
        { tag: IMAGE, id: source?.id, action: 'present' },
        { tag: alias, id: source?.id, action: 'tagged' },
      ]);
      expect(again.logs).toEqual([]);
      expect((await remote().inspectImage(alias))?.id).toBe(source?.id);
    } finally {
      await execa('docker', ['image', 'rm', alias]);
    }
  });

  it('says in one line which images failed to reach which engine when the copy breaks off, and shows nothing with --json', async () => {
    const relay = await cuttingRelay(1024 * 1024);
    try {
      const source = new EngineApi({ kind: 'tcp', host: '127.0.0.1', port: relay.port, tls: null, context: 'default' });
      const json = { ...recordingIo(), quiet: true };
      const copy = ensureImagesOn(remote(), ['devkit/dns:local'], { source, io: json });
      await expect(copy).rejects.toThrow(
        new RegExp(
          `^copying devkit/dns:local to the Docker engine at tcp://${second().address}:2375 \\(context ${second().contextName}\\) failed: ` +
            'reading them from tcp://127.0.0.1:\\d+ failed after \\d+\\.\\d MiB: [^\\n]+$',
        ),
      );
      expect(json.logs).toEqual([]);
      expect(await remote().inspectImage('devkit/dns:local')).toBeNull();
    } finally {
      await relay.close();
    }
  });

  it('is out of reach once stopped, in one line, and comes back with its images', async () => {
    const { address, contextName } = second();
    await second().stop();
    const refused = await remote()
      .ping()
      .then(
        () => null,
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      );
    expect(refused).toMatch(
      new RegExp(`^cannot reach the Docker engine at tcp://${address}:2375 \\(context ${contextName}\\) \\([^\\n]*\\): start that engine`),
    );
    expect(refused).not.toContain('\n');

    await second().start();
    expect((await remote().inspectImage(IMAGE))?.id).toBe((await local.inspectImage(IMAGE))?.id);
  });
});
