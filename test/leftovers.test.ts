import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, expect, it } from 'vitest';
import { DEFAULT_BASE_IMAGE } from '../src/config/config.js';
import { describeWithDocker } from './support/docker.js';
import { tempDir } from './support/sandbox.js';

const SCRIPT = fileURLToPath(new URL('../scripts/leftovers.mjs', import.meta.url));

describeWithDocker("the test command's check for what the tests leave behind", () => {
  // Its own temp folder and only Docker objects with its own label: tests running beside it do not count.
  const label = `devkit.leftovers-test=${process.pid}`;
  const name = `devkit-leftovers-test-${process.pid}`;
  const dir = tempDir('leftovers');
  const env = { TMPDIR: path.join(dir, 'tmp'), LEFTOVERS_LABEL: label };
  const snapshot = path.join(dir, 'before.json');
  const leftovers = (command: string) => execa('node', [SCRIPT, command, snapshot], { env, reject: false });
  const removeAll = () =>
    Promise.all([
      execa('docker', ['rm', '-f', name], { reject: false }),
      execa('docker', ['network', 'rm', name], { reject: false }),
      execa('docker', ['volume', 'rm', '-f', name], { reject: false }),
    ]);
  afterAll(removeAll);

  it('fails naming a temp folder, a container, a network and a volume made after the snapshot, and passes once they are gone', async () => {
    mkdirSync(env.TMPDIR, { recursive: true });
    expect((await leftovers('snapshot')).exitCode).toBe(0);
    expect((await leftovers('check')).exitCode).toBe(0);

    mkdirSync(path.join(env.TMPDIR, 'devkit-forgotten'));
    await execa('docker', ['create', '--label', label, '--name', name, DEFAULT_BASE_IMAGE, 'true']);
    await execa('docker', ['network', 'create', '--label', label, name]);
    await execa('docker', ['volume', 'create', '--label', label, name]);
    const failed = await leftovers('check');
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr.split('\n').filter(Boolean).sort()).toEqual(
      [
        `left behind by the tests: temp: ${path.join(env.TMPDIR, 'devkit-forgotten')}`,
        `left behind by the tests: containers: ${name}`,
        `left behind by the tests: networks: ${name}`,
        `left behind by the tests: volumes: ${name}`,
        '4 thing(s) left behind: each test removes what it makes',
      ].sort(),
    );

    await removeAll();
    await execa('rmdir', [path.join(env.TMPDIR, 'devkit-forgotten')]);
    expect(await leftovers('check')).toMatchObject({ exitCode: 0, stderr: '' });
  });
});
