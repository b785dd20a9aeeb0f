import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import net from 'node:net';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineApi, engineClient } from '../src/docker/engine-api.js';
import { resolveEndpoint } from '../src/docker/endpoint.js';
import { ensureImagesOn } from '../src/docker/image-transfer.js';
import { registryReference, type RegistryRoute } from '../src/docker/registry-transfer.js';
import { describeWithDocker, docker } from './support/docker.js';
import { ENGINE_SOCKET, relayTo, type Relay } from './support/engine-relay.js';
import { recordingIo } from './support/io.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { tempDir } from './support/sandbox.js';
import { startSecondEngine, type SecondEngine } from './support/second-engine.js';

/**
 * A second engine (scripts/second-engine.sh, test/support/second-engine.ts)
 * stands in for a remote one: reached over TCP through a docker context, it
 * gets the local engine's images through the Engine API (image-transfer.ts).
 * One engine for the whole file.
 */

const IMAGE = 'devkit/ports:local';

/** The network namespace the second engine's dockerd runs in, and the host's link to it. */
async function engineNetwork(engine: SecondEngine): Promise<{ namespace: string; link: string }> {
  const pid = readFileSync(path.join(engine.dir, 'dockerd.pid'), 'utf8').trim();
  const namespace = (await execa('ip', ['netns', 'identify', pid])).stdout.trim();
  const link = /\bdev (\S+)/.exec((await execa('ip', ['-o', 'route', 'get', engine.address])).stdout)?.[1] ?? '';
  return { namespace, link };
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
  const local = engineClient(process.env);
  const second = (): SecondEngine => {
    if (engine === undefined) throw new Error('no second engine');
    return engine;
  };
  /** devkit's client for the engine the test env names (DOCKER_CONFIG, DOCKER_CONTEXT), as a devkit run would pick it. */
  const remote = (): EngineApi => new EngineApi(resolveEndpoint(second().env));

  beforeAll(async () => {
    engine = await startSecondEngine();
  }, 120_000);

  afterAll(async () => {
    if (engine === undefined) return;
    const { dir } = engine;
    const { namespace, link } = await engineNetwork(engine);
    expect({ namespace, link }).toEqual({ namespace: expect.stringMatching(/\S/), link: expect.stringMatching(/\S/) });
    await engine.destroy();
    expect(existsSync(dir)).toBe(false);
    expect((await execa('ip', ['netns', 'list'])).stdout).not.toContain(namespace);
    expect((await execa('ip', ['link', 'show', link], { reject: false })).exitCode).not.toBe(0);
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

  describe('through the registry devkit.yml names (registry:)', () => {
    let registry: TestRegistry | undefined;
    const made: string[] = [];
    const reg = (): TestRegistry => {
      if (registry === undefined) throw new Error('no registry');
      return registry;
    };
    /** A docker config folder holding only what `docker login` to the test registry writes. */
    const loggedIn = (): string => {
      const config = tempDir('registry-login');
      reg().login(config);
      return config;
    };
    const route = (dockerConfig: string, prefix = `${reg().address}/devkit-test`): RegistryRoute => ({
      registry: prefix,
      env: { ...process.env, DOCKER_CONFIG: dockerConfig },
    });
    /** A small image of its own (one file), on the local engine only; removed from both engines after the file. */
    const smallImage = async (name: string): Promise<{ tag: string; id: string }> => {
      const tag = `devkit/registry-test-${name}:${process.pid}`;
      const dir = tempDir('small-image');
      writeFileSync(path.join(dir, 'made-by'), `${name} ${process.pid} ${Date.now()}\n`);
      await execa('sh', ['-c', 'tar -C "$1" -c . | docker import - "$2"', 'sh', dir, tag]);
      made.push(tag);
      const id = (await local.inspectImage(tag))?.id ?? '';
      return { tag, id };
    };
    /** Image names on an engine that start with the registry's address: devkit leaves none behind. */
    const registryNames = async (api: EngineApi): Promise<string[]> =>
      (await api.request<Array<{ RepoTags: string[] | null }>>('GET', '/images/json'))
        .flatMap((image) => image.RepoTags ?? [])
        .filter((name) => name.startsWith(reg().address));

    beforeAll(async () => {
      registry = await startRegistry();
      await registry.reachFrom(second());
    }, 60_000);

    afterAll(async () => {
      for (const tag of made) {
        await execa('docker', ['image', 'rm', tag], { reject: false });
        await execa('docker', ['image', 'rm', tag], { reject: false, env: second().env, extendEnv: false });
      }
      await registry?.stop();
    });

    it("pulls the images it lacks from the registry, logged in with the docker config's credentials, once, named as here", async () => {
      const [a, b] = [await smallImage('a'), await smallImage('b')];
      const terminal = { ...recordingIo(), interactive: true, columns: 300 };
      const prefix = `${reg().address}/devkit-test`;
      expect(await ensureImagesOn(remote(), [a.tag, b.tag], { source: local, io: terminal, route: route(loggedIn()) })).toEqual([
        { ...a, action: 'pulled' },
        { ...b, action: 'pulled' },
      ]);
      // The same images there (an image's ID is the digest of its config, which names its layers), under devkit's names.
      expect((await remote().inspectImage(a.tag))?.id).toBe(a.id);
      expect((await remote().inspectImage(b.tag))?.id).toBe(b.id);
      // They went through the registry, under its prefix, and the registry's names are gone from both engines again.
      expect(await reg().repositories()).toEqual(
        expect.arrayContaining([`devkit-test/devkit/registry-test-a`, `devkit-test/devkit/registry-test-b`]),
      );
      expect([...(await registryNames(local)), ...(await registryNames(remote()))]).toEqual([]);
      // A terminal shows each step with its layers, and what it moved.
      const where = `tcp://${second().address}:2375 \\(context ${second().contextName}\\)`;
      expect(terminal.logs).toContainEqual(
        expect.stringMatching(new RegExp(`^pushing ${a.tag} to ${prefix}: 1/1 layers, \\d+\\.\\d MiB$`)),
      );
      expect(terminal.logs).toContainEqual(
        expect.stringMatching(new RegExp(`^pushing ${b.tag} to ${prefix}: \\d+\\.\\d MiB in \\d+\\.\\d s$`)),
      );
      expect(terminal.logs).toContainEqual(
        expect.stringMatching(new RegExp(`^pulling ${a.tag} from ${prefix} on ${where}: \\d+\\.\\d MiB in \\d+\\.\\d s$`)),
      );

      // Again: nothing to do, nothing said.
      const again = recordingIo();
      expect(await ensureImagesOn(remote(), [a.tag, b.tag], { source: local, io: again, route: route(loggedIn()) })).toEqual([
        { ...a, action: 'present' },
        { ...b, action: 'present' },
      ]);
      expect(again.logs).toEqual([]);
    });

    it('logs in with the credential helper the docker config names for the registry', async () => {
      const image = await smallImage('helper');
      const bin = tempDir('credential-helper');
      const seen = path.join(bin, 'asked-for');
      // A credential helper as docker-credential-helpers make them: `get` reads the server on stdin, answers JSON.
      writeFileSync(
        path.join(bin, 'docker-credential-devkit-test'),
        `#!/bin/sh\n[ "$1" = get ] || exit 1\ncat > "${seen}"\n` +
          `printf '{"ServerURL":"%s","Username":"${reg().user}","Secret":"${reg().password}"}' "$(cat "${seen}")"\n`,
        { mode: 0o755 },
      );
      const config = tempDir('registry-helper');
      writeFileSync(path.join(config, 'config.json'), JSON.stringify({ credHelpers: { [reg().address]: 'devkit-test' } }));
      const withHelper: RegistryRoute = { ...route(config), env: { ...route(config).env, PATH: `${bin}:${process.env.PATH ?? ''}` } };
      expect(await ensureImagesOn(remote(), [image.tag], { source: local, io: recordingIo(), route: withHelper })).toEqual([
        { ...image, action: 'pulled' },
      ]);
      expect(readFileSync(seen, 'utf8')).toBe(reg().address);
      expect((await remote().inspectImage(image.tag))?.id).toBe(image.id);
    });

    it('says in one line that the registry wants a login the docker config lacks, and leaves nothing behind', async () => {
      const image = await smallImage('no-login');
      const json = { ...recordingIo(), quiet: true };
      const send = ensureImagesOn(remote(), [image.tag], { source: local, io: json, route: route(tempDir('no-login')) });
      await expect(send).rejects.toThrow(
        new RegExp(
          `^pushing ${image.tag} to ${reg().address}/devkit-test failed: [^\\n]*no basic auth credentials[^\\n]* ` +
            `\\(log in with docker login ${reg().address}: devkit uses the docker config's credentials\\)$`,
        ),
      );
      expect(json.logs).toEqual([]);
      expect(await remote().inspectImage(image.tag)).toBeNull();
      expect(await registryNames(local)).toEqual([]);
    });

    it('refuses an image the registry serves in place of the one pushed, and keeps it off the remote engine', async () => {
      // A registry that, to the second engine, answers for the image devkit pushed with another image of the same repository.
      const liar = await startRegistry();
      try {
        await liar.reachFrom(second(), { tagInstead: 'other' });
        const config = tempDir('registry-liar');
        liar.login(config);
        const [image, other] = [await smallImage('swapped'), await smallImage('other')];
        const planted = `${liar.address}/devkit-test/devkit/registry-test-swapped:other`;
        const docker = (args: string[]) => execa('docker', args, { env: { DOCKER_CONFIG: config }, stdin: 'ignore' });
        await docker(['tag', other.tag, planted]);
        await docker(['push', planted]);
        await docker(['image', 'rm', planted]);

        const send = ensureImagesOn(remote(), [image.tag], {
          source: local,
          io: recordingIo(),
          route: route(config, `${liar.address}/devkit-test`),
        });
        await expect(send).rejects.toThrow(
          `${liar.address}/devkit-test served ${registryReference(`${liar.address}/devkit-test`, image)} as ${other.id}, ` +
            `not the ${image.id} built here: the registry does not hold what devkit pushed`,
        );
        // Neither image is there under any name: the one served was taken off with the registry's name.
        expect(await remote().inspectImage(image.tag)).toBeNull();
        expect(await remote().inspectImage(other.id)).toBeNull();
      } finally {
        await liar.stop();
      }
    });

    it('says in one line when the remote engine cannot reach the registry it was pushed to', async () => {
      // A registry this machine reaches and the second engine does not (not served in its namespace).
      const elsewhere = await startRegistry();
      try {
        const image = await smallImage('unreachable');
        const config = tempDir('registry-elsewhere');
        elsewhere.login(config);
        const send = ensureImagesOn(remote(), [image.tag], {
          source: local,
          io: recordingIo(),
          route: route(config, `${elsewhere.address}/devkit-test`),
        });
        await expect(send).rejects.toThrow(
          new RegExp(
            `^pulling ${image.tag} from ${elsewhere.address}/devkit-test on tcp://${second().address}:2375 [^\\n]* failed: ` +
              `[^\\n]*connection refused[^\\n]* \\(that engine reaches the registry itself, by the name ${elsewhere.address} devkit.yml gives it\\)$`,
          ),
        );
        // The push went through; nothing else changed on either engine.
        expect(await elsewhere.repositories()).toEqual(['devkit-test/devkit/registry-test-unreachable']);
        expect(await remote().inspectImage(image.tag)).toBeNull();
        expect((await local.inspectImage(image.tag))?.id).toBe(image.id);
      } finally {
        await elsewhere.stop();
      }
    });
  });

  it('is reached over ssh as the docker CLI reaches it (ssh HOST docker system dial-stdio)', async () => {
    // An sshd container on the local engine, with the docker CLI, whose DOCKER_HOST is the second engine.
    const dir = tempDir('engine2-ssh');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'key')]);
    const name = `devkit-engine2-sshd-${process.pid}`;
    const setUp = [
      'ssh-keygen -A >/dev/null',
      'mkdir -p /run/sshd',
      'useradd -m -s /bin/sh dev',
      'mkdir -p /home/dev/.ssh',
      `echo '${readFileSync(path.join(dir, 'key.pub'), 'utf8').trim()}' > /home/dev/.ssh/authorized_keys`,
      'chown -R dev:dev /home/dev/.ssh && chmod 700 /home/dev/.ssh',
      `echo 'SetEnv DOCKER_HOST=${second().host}' >> /etc/ssh/sshd_config`,
      'echo ready',
      'exec /usr/sbin/sshd -D -e',
    ].join(' && ');
    await execa('docker', [
      'run',
      '-d',
      '--name',
      name,
      '--label',
      'devkit.test=engine2-ssh',
      '-p',
      '127.0.0.1::22',
      '-v',
      '/usr/bin/docker:/usr/local/bin/docker:ro',
      'devkit/base:bookworm',
      'sh',
      '-c',
      setUp,
    ]);
    try {
      for (let i = 0; i < 50 && !(await docker(['logs', name])).includes('ready'); i++) await sleep(100);
      const port = (await docker(['port', name, '22'])).split(':').pop() ?? '';
      const hostKey = await docker(['exec', name, 'cat', '/etc/ssh/ssh_host_ed25519_key.pub']);
      writeFileSync(path.join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostKey}\n`);
      // ssh reads the passwd user's ~/.ssh, not $HOME's: an ssh first on PATH brings the test's key and known_hosts.
      writeFileSync(
        path.join(dir, 'ssh_config'),
        `Host 127.0.0.1\n  IdentityFile ${dir}/key\n  IdentitiesOnly yes\n  UserKnownHostsFile ${dir}/known_hosts\n  StrictHostKeyChecking yes\n`,
      );
      mkdirSync(path.join(dir, 'bin'));
      writeFileSync(path.join(dir, 'bin', 'ssh'), `#!/bin/sh\nexec /usr/bin/ssh -F ${dir}/ssh_config "$@"\n`, { mode: 0o755 });
      const contextName = `${second().contextName}-ssh`;
      await execa('docker', ['context', 'create', contextName, '--docker', `host=ssh://dev@127.0.0.1:${port}`], {
        env: { DOCKER_CONFIG: second().dockerConfig },
      });

      const env = { ...second().env, DOCKER_CONTEXT: contextName, PATH: `${dir}/bin:${process.env.PATH ?? ''}` };
      const viaSsh = new EngineApi(resolveEndpoint(env));
      expect(viaSsh.endpoint).toEqual({ kind: 'ssh', user: 'dev', host: '127.0.0.1', port: Number(port), context: contextName });
      // dial.ts runs ssh from this process's PATH.
      const path_ = process.env.PATH;
      process.env.PATH = env.PATH;
      try {
        const [there, direct] = await Promise.all([
          viaSsh.request<{ ID: string }>('GET', '/info'),
          remote().request<{ ID: string }>('GET', '/info'),
        ]);
        expect(there.ID).toBe(direct.ID);
      } finally {
        process.env.PATH = path_;
      }
    } finally {
      await execa('docker', ['rm', '-f', name], { reject: false });
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
