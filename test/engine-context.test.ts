import { execa } from 'execa';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithDocker } from './support/docker.js';
import { ENGINE_SOCKET, relayTo, toEngine, type Relay } from './support/engine-relay.js';
import { devkit, makeDevRoot, tempDir, type DevRootFixture } from './support/sandbox.js';

/**
 * devkit reaches the engine the docker CLI would: DOCKER_HOST, DOCKER_CONTEXT
 * or the docker config's current context, over the unix socket, TCP or TLS.
 * The engine here listens on its unix socket only, so each test engine
 * address is a relay on 127.0.0.1 (plain TCP, or TLS asking for a client
 * certificate) in front of that real engine; contexts are made by the real
 * docker CLI in a docker config folder of the test's own.
 */

async function openssl(dir: string, args: string[]): Promise<void> {
  await execa('openssl', args, { cwd: dir });
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, as docker's TLS setup wants them. */
async function makeCertificates(dir: string, name: string): Promise<void> {
  await openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    `/CN=${name} test CA`,
    '-keyout',
    `${name}-ca-key.pem`,
    '-out',
    `${name}-ca.pem`,
  ]);
  writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [who, subject] of [
    ['server', '/CN=127.0.0.1'],
    ['client', '/CN=devkit test client'],
  ] as const) {
    await openssl(dir, [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      subject,
      '-keyout',
      `${name}-${who}-key.pem`,
      '-out',
      `${name}-${who}.csr`,
    ]);
    await openssl(dir, [
      'x509',
      '-req',
      '-days',
      '1',
      '-in',
      `${name}-${who}.csr`,
      '-CA',
      `${name}-ca.pem`,
      '-CAkey',
      `${name}-ca-key.pem`,
      '-CAcreateserial',
      '-extfile',
      `${who}.ext`,
      '-out',
      `${name}-${who}.pem`,
    ]);
  }
}

describeWithDocker('the engine the docker CLI would use', () => {
  let fx: DevRootFixture;
  let dir: string;
  let plain: Relay;
  let secure: Relay;
  const pem = (file: string): string => readFileSync(path.join(dir, file), 'utf8');

  /** The environment of a user whose docker config is the test's, without the suite's own engine settings. */
  const userEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
    DOCKER_CONFIG: path.join(dir, 'docker'),
    DOCKER_HOST: '', // empty is unset, to the docker CLI and to devkit
    DOCKER_CONTEXT: '',
    ...extra,
  });
  const dockerCli = (args: string[], extra: Record<string, string> = {}) => execa('docker', args, { env: userEnv(extra), reject: false });
  const ps = (extra: Record<string, string> = {}) => devkit(['ps', '--json'], { cwd: fx.workspace, env: userEnv(extra) });

  beforeAll(async () => {
    fx = await makeDevRoot({ files: 2 });
    dir = tempDir('engine-context');
    plain = await relayTo(net.createServer({ allowHalfOpen: true }, toEngine));
    await makeCertificates(dir, 'good');
    await makeCertificates(dir, 'other');
    secure = await relayTo(
      tls.createServer(
        {
          key: pem('good-server-key.pem'),
          cert: pem('good-server.pem'),
          ca: pem('good-ca.pem'),
          requestCert: true,
          rejectUnauthorized: true,
        },
        (client) => toEngine(client),
      ),
    );
    const create = async (name: string, host: string): Promise<void> => {
      const made = await dockerCli(['context', 'create', name, '--docker', host]);
      expect(made.exitCode, made.stderr).toBe(0);
    };
    await create('relay', `host=tcp://127.0.0.1:${plain.port}`);
    const tlsFiles = (ca: string) =>
      `ca=${path.join(dir, `${ca}-ca.pem`)},cert=${path.join(dir, 'good-client.pem')},key=${path.join(dir, 'good-client-key.pem')}`;
    await create('secure', `host=tcp://127.0.0.1:${secure.port},${tlsFiles('good')}`);
    await create('wrong-ca', `host=tcp://127.0.0.1:${secure.port},${tlsFiles('other')}`);
  }, 120_000);

  afterAll(async () => {
    await plain?.close();
    await secure?.close();
    fx?.cleanup();
  });

  it('follows DOCKER_CONTEXT and the current context over TCP, and lets DOCKER_HOST win as the docker CLI does', async () => {
    const cases: Array<{ env: Record<string, string>; relayed: boolean }> = [
      { env: { DOCKER_CONTEXT: 'relay' }, relayed: true },
      { env: { DOCKER_HOST: `unix://${ENGINE_SOCKET}`, DOCKER_CONTEXT: 'relay' }, relayed: false },
      { env: { DOCKER_HOST: `tcp://127.0.0.1:${plain.port}` }, relayed: true },
      { env: {}, relayed: false },
    ];
    for (const { env, relayed } of cases) {
      for (const run of [() => dockerCli(['version', '--format', '{{.Server.Version}}'], env), () => ps(env)]) {
        const before = plain.connections;
        const result = await run();
        expect(result.exitCode, `${JSON.stringify(env)}: ${result.stderr}`).toBe(0);
        expect(plain.connections > before, `${JSON.stringify(env)} through the relay`).toBe(relayed);
      }
    }
    // docker context use writes currentContext in the config: devkit follows it with nothing in the environment.
    expect((await dockerCli(['context', 'use', 'relay'])).exitCode).toBe(0);
    try {
      const before = plain.connections;
      expect((await ps()).exitCode).toBe(0);
      expect(plain.connections).toBeGreaterThan(before);
    } finally {
      await dockerCli(['context', 'use', 'default']);
    }
  });

  it("speaks TLS with the context's certificates, and names the engine in one line when they do not fit", async () => {
    const before = secure.connections;
    const good = await ps({ DOCKER_CONTEXT: 'secure' });
    expect(good.exitCode, good.stderr).toBe(0);
    expect(JSON.parse(good.stdout)).toEqual({ containers: [], silentEngines: [] });
    expect(secure.connections).toBeGreaterThan(before);

    const wrong = await ps({ DOCKER_CONTEXT: 'wrong-ca' });
    expect(wrong.exitCode).toBe(1);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toContain(`cannot reach the Docker engine at tcp://127.0.0.1:${secure.port} with TLS (context wrong-ca)`);

    const missing = await ps({ DOCKER_CONTEXT: 'nowhere' });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr.trim()).toBe(
      'devkit: docker context nowhere does not exist: make it with docker context create nowhere --docker host=...',
    );
  });

  it('up refuses an engine not on this machine’s socket, in one line, and makes nothing there', async () => {
    const up = await devkit(['-p', 'dev-all', 'up'], { cwd: fx.workspace, env: userEnv({ DOCKER_CONTEXT: 'relay' }) });
    expect(up.exitCode).toBe(1);
    expect(up.stderr.trim().split('\n')).toHaveLength(1);
    expect(up.stderr).toContain(`the Docker engine at tcp://127.0.0.1:${plain.port} (context relay) is not on this machine's socket`);
    const made = await execa('docker', ['ps', '-a', '-q', '--filter', `label=devkit.root=${fx.root}`]);
    expect(made.stdout).toBe('');
  });
});
