import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWithDocker, docker, profileContainers, removeStacks } from './support/docker.js';
import { agentCopy, agentHome, devkit, expectRefused, makeDevRoot, snapshot, tempDir, type DevRootFixture } from './support/sandbox.js';

/**
 * Your own image (issue 11): devkit.yml's image section adds Debian packages
 * (fetched on the host, installed with no network in the build), npm CLIs
 * (installed on the host, copied in) and the user's Dockerfile to the dev
 * image, under a tag of the workspace's own.
 */

/** A tiny npm CLI made here (`npm pack`): prints its version and keeps a state file in $HOME, as agent CLIs do. */
async function packFixtureCli(): Promise<string> {
  const dir = tempDir('npm-fixture');
  const pkg = path.join(dir, 'pkg');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(
    path.join(pkg, 'package.json'),
    JSON.stringify({ name: 'fixture-cli', version: '1.2.3', bin: { 'fixture-cli': 'cli.js' } }),
  );
  writeFileSync(
    path.join(pkg, 'cli.js'),
    [
      '#!/usr/bin/env node',
      "const fs = require('fs'), path = require('path');",
      "const dir = path.join(process.env.HOME, '.fixture-cli');",
      'fs.mkdirSync(dir, { recursive: true });',
      "fs.writeFileSync(path.join(dir, 'state.json'), '{}');",
      "if (process.argv[2] === '--version') console.log('fixture-cli 1.2.3');",
    ].join('\n'),
    { mode: 0o755 },
  );
  const packed = await execa('npm', ['pack', '--silent', pkg], { cwd: dir });
  return path.join(dir, packed.stdout.trim().split('\n').at(-1) ?? '');
}

/** The dev image agent K's container runs. */
async function runningImage(fx: DevRootFixture, k: number): Promise<string> {
  return docker([
    'inspect',
    '--format',
    '{{.Config.Image}}',
    await profileContainers(fx.root, `agent${k}`, { service: 'dev', running: true }),
  ]);
}

describe("devkit.yml's image section, refused when wrong", () => {
  let fx: DevRootFixture;
  beforeAll(async () => {
    fx = await makeDevRoot();
  });
  afterAll(() => fx.cleanup());

  const refusedWith = async (section: string, message: RegExp): Promise<void> => {
    writeFileSync(path.join(fx.workspace, 'devkit.yml'), `root: ${fx.root}\nrepo: app\n${section}`);
    const before = snapshot(fx.root);
    expectRefused(await devkit(['worktrees', 'init', '2'], { cwd: fx.workspace }), message, { unchanged: { dir: fx.root, before } });
  };

  it('names the entry that is not a package, an npm spec or a file', async () => {
    await refusedWith('image:\n  packages: ["rm -rf /"]\n', /'image.packages' entry "rm -rf \/" is not a Debian package name/);
    await refusedWith('image:\n  npm: ["git+https://example.invalid/x.git"]\n', /'image.npm' entry .* is neither an npm package name/);
    await refusedWith('image:\n  dockerfile: nowhere/Dockerfile\n', /'image.dockerfile' names .*nowhere\/Dockerfile, which does not exist/);
    await refusedWith('image:\n  color: blue\n', /unknown key 'image.color'/);
  });

  it('refuses a Dockerfile or npm tarball in the dev root, where agents write', async () => {
    writeFileSync(path.join(fx.primary, 'Dockerfile'), 'ARG DEVKIT_IMAGE\nFROM ${DEVKIT_IMAGE}\n');
    await refusedWith(`image:\n  dockerfile: ${fx.primary}/Dockerfile\n`, /is inside the dev root .*where agents can write/);
  });
});

describeWithDocker('your own image', () => {
  let withTools: DevRootFixture;
  let plain: DevRootFixture;
  let up: { stdout: string; stderr: string; exitCode: number };
  beforeAll(async () => {
    [withTools, plain] = await Promise.all([makeDevRoot(), makeDevRoot()]);
    const tarball = await packFixtureCli();
    const dockerDir = path.join(withTools.workspace, 'image');
    mkdirSync(dockerDir);
    writeFileSync(
      path.join(dockerDir, 'Dockerfile'),
      'ARG DEVKIT_IMAGE\nFROM ${DEVKIT_IMAGE}\nRUN echo made-by-your-dockerfile > /etc/devkit-user-marker\n',
    );
    appendFileSync(
      path.join(withTools.workspace, 'devkit.yml'),
      `image:\n  packages: [openjdk-17-jdk-headless]\n  npm: [${tarball}]\n  dockerfile: image/Dockerfile\n`,
    );
    for (const fx of [withTools, plain]) expect((await devkit(['worktrees', 'init', '3'], { cwd: fx.workspace })).exitCode).toBe(0);
    up = await devkit(['-p', 'agent2', 'up'], { cwd: withTools.workspace });
    expect(up.exitCode, up.stderr).toBe(0);
    for (const [fx, k] of [
      [withTools, 3],
      [plain, 2],
    ] as const) {
      const result = await devkit(['-p', `agent${k}`, 'up'], { cwd: fx.workspace });
      expect(result.exitCode, result.stderr).toBe(0);
    }
  }, 600_000);
  afterAll(async () => {
    await Promise.all([removeStacks(withTools.root), removeStacks(plain.root)]);
    withTools.cleanup();
    plain.cleanup();
  });

  it('has the Debian packages, fetched on the host: javac works in agent 2', async () => {
    const javac = await devkit(['agent', 'run', '2', '--', 'javac', '-version'], { cwd: withTools.workspace });
    expect(javac.exitCode, javac.stderr).toBe(0);
    expect(javac.stdout).toMatch(/^javac 17\./);
    expect(up.stderr).toMatch(/downloading \d+ Debian packages: done/);
  });

  it("runs an npm CLI from image.npm, whose state lands in agent 2's HOME only", async () => {
    const run = await devkit(['agent', 'run', '2', '--', 'fixture-cli', '--version'], { cwd: withTools.workspace });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe('fixture-cli 1.2.3');
    expect(existsSync(path.join(agentHome(withTools, 2), '.fixture-cli', 'state.json'))).toBe(true);
    expect(existsSync(path.join(agentHome(withTools, 3), '.fixture-cli'))).toBe(false);
    expect(existsSync(path.join(agentCopy(withTools, 2), '.fixture-cli'))).toBe(false);
  });

  it("builds the user's Dockerfile on top", async () => {
    const marker = await devkit(['agent', 'run', '3', '--', 'cat', '/etc/devkit-user-marker'], { cwd: withTools.workspace });
    expect(marker.stdout.trim()).toBe('made-by-your-dockerfile');
  });

  it("gives each workspace its own tag: the other workspace's agents run devkit's image, without javac", async () => {
    const own = await runningImage(withTools, 2);
    expect(own).toMatch(/^devkit\/dev-app-[0-9a-f]{6}:[0-9a-f]{16}$/);
    expect(await runningImage(withTools, 3)).toBe(own);
    expect(await runningImage(plain, 2)).toBe('devkit/dev:local');
    const javac = await devkit(['agent', 'run', '2', '--', 'javac', '-version'], { cwd: plain.workspace });
    expect(javac.exitCode).toBe(127);
    expect(javac.stdout).toBe('');
    expect(javac.stderr.trim()).toBe(
      "devkit: javac is not in agent 2's image: add it under image.npm (npm CLIs) or image.packages (Debian packages) in devkit.yml, then devkit -p agent2 up",
    );
  });

  it('is up to date on the next build: nothing is fetched or built again', async () => {
    const again = await devkit(['image', 'build'], { cwd: withTools.workspace });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toMatch(
      new RegExp(`^${(await runningImage(withTools, 2)).replace(/[/.]/g, '\\$&')}\\t[0-9a-f]{12}\\tup to date$`, 'm'),
    );
    expect(again.stderr).not.toMatch(/downloading|building|installing/);
  });

  it('is checked by doctor, and a compose.yml that runs another image is named (a hand edit)', async () => {
    const devImage = async (fx: DevRootFixture) => {
      const result = await devkit(['doctor', '--json'], { cwd: fx.workspace });
      const { findings } = JSON.parse(result.stdout) as {
        findings: Array<{ check: string; ok: boolean; detail: string; fix: string | null }>;
      };
      return findings.find((each) => each.check === 'dev image');
    };
    expect(await devImage(withTools)).toMatchObject({ ok: true, detail: expect.stringMatching(/made from devkit.yml's image section/) });
    expect(await devImage(plain)).toMatchObject({ ok: true, detail: 'dev runs devkit/dev:local' });
    for (const fx of [withTools, plain]) {
      const file = path.join(fx.workspace, 'compose.yml');
      writeFileSync(file, readFileSync(file, 'utf8').replace('${DEVKIT_DEV_IMAGE:-devkit/dev:local}', 'devkit/hand-made:1'));
    }
    expect(await devImage(plain)).toMatchObject({
      ok: false,
      detail: 'compose.yml runs devkit/hand-made:1 for dev (named by hand), which the engine does not have',
    });
    expect(await devImage(withTools)).toMatchObject({
      ok: false,
      detail: expect.stringMatching(
        /^compose.yml runs devkit\/hand-made:1 for dev, not devkit\/dev-app-.*, which devkit.yml's image section makes$/,
      ),
    });
    expectRefused(
      await devkit(['-p', 'agent2', 'up'], { cwd: withTools.workspace }),
      /runs devkit\/hand-made:1 for dev, not devkit\/dev-app-/,
    );
  });
});
