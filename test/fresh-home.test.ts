import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWithDocker, removeStacks } from './support/docker.js';
import { agentHome, devkit, git, inAgentContainer, makeDevRoot, tempDir, type DevRootFixture } from './support/sandbox.js';

/**
 * A HOME that works at once (issue 11): a new HOME names who commits, and
 * plain ssh in the container leaves through the egress proxy.
 */

/** What git in agent K's HOME says its identity is (read from the .gitconfig devkit wrote, as git reads it). */
async function identityIn(fx: DevRootFixture, k: number): Promise<string> {
  const file = path.join(agentHome(fx, k), '.gitconfig');
  const get = (key: string) => git(fx.primary, ['config', '--file', file, '--get', key]).then((value) => value.trim());
  return `${await get('user.name')} <${await get('user.email')}>`;
}

/** A HOME of its own for the host user running devkit, with this global git config (null: none). */
function hostHome(gitconfig: string | null): Record<string, string> {
  const home = tempDir('host-home');
  mkdirSync(home, { recursive: true });
  if (gitconfig !== null) writeFileSync(path.join(home, '.gitconfig'), gitconfig);
  return { HOME: home, XDG_CONFIG_HOME: path.join(home, '.config') };
}

describe("a new HOME's git identity", () => {
  const fixtures: DevRootFixture[] = [];
  afterAll(() => fixtures.forEach((fx) => fx.cleanup()));
  const devRoot = async (section: string): Promise<DevRootFixture> => {
    const fx = await makeDevRoot();
    fixtures.push(fx);
    appendFileSync(path.join(fx.workspace, 'devkit.yml'), section);
    return fx;
  };

  it("is devkit.yml's git.name and git.email, and an agent's own under git.agents", async () => {
    const fx = await devRoot('git:\n  name: Ada Lovelace\n  email: ada@example.com\n  agents:\n    agent3:\n      name: Agent Three\n');
    const host = hostHome('[user]\n\tname = Host User\n\temail = host@example.com\n');
    expect((await devkit(['worktrees', 'init', '3'], { cwd: fx.workspace, env: host })).exitCode).toBe(0);
    expect(await identityIn(fx, 1)).toBe('Ada Lovelace <ada@example.com>');
    expect(await identityIn(fx, 2)).toBe('Ada Lovelace <ada@example.com>');
    expect(await identityIn(fx, 3)).toBe('Agent Three <ada@example.com>');
  });

  it("is the host user's own without a git section, and says which agent without either", async () => {
    const fx = await devRoot('');
    const withIdentity = hostHome('[user]\n\tname = Host User\n\temail = host@example.com\n');
    expect((await devkit(['worktrees', 'init', '2'], { cwd: fx.workspace, env: withIdentity })).exitCode).toBe(0);
    expect(await identityIn(fx, 2)).toBe('Host User <host@example.com>');
    const without = hostHome(null);
    expect((await devkit(['worktrees', 'init', '3'], { cwd: fx.workspace, env: without })).exitCode).toBe(0);
    expect(await identityIn(fx, 3)).toBe('devkit agent3 <agent3@devkit.invalid>');
  });

  it('leaves an existing HOME as it is', async () => {
    const fx = await devRoot('git:\n  name: Ada Lovelace\n  email: ada@example.com\n');
    expect((await devkit(['worktrees', 'init', '2'], { cwd: fx.workspace })).exitCode).toBe(0);
    const file = path.join(agentHome(fx, 2), '.gitconfig');
    writeFileSync(file, '[user]\n\tname = Changed By The Agent\n\temail = a@b\n');
    appendFileSync(path.join(fx.workspace, 'devkit.yml'), '  agents:\n    agent2:\n      name: Someone Else\n');
    expect((await devkit(['worktrees', 'init', '2'], { cwd: fx.workspace })).exitCode).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('[user]\n\tname = Changed By The Agent\n\temail = a@b\n');
  });
});

describeWithDocker("a fresh agent's HOME in its container works at once", () => {
  let fx: DevRootFixture;
  beforeAll(async () => {
    fx = await makeDevRoot();
    appendFileSync(path.join(fx.workspace, 'devkit.yml'), 'git:\n  name: Ada Lovelace\n  email: ada@example.com\n');
    expect((await devkit(['worktrees', 'init', '2'], { cwd: fx.workspace })).exitCode).toBe(0);
    const up = await devkit(['-p', 'agent2', 'up'], { cwd: fx.workspace });
    expect(up.exitCode, up.stderr).toBe(0);
  });
  afterAll(async () => {
    await removeStacks(fx.root, fx.repo);
    fx.cleanup();
  });

  it('a first commit succeeds with the configured identity, with nothing set by hand', async () => {
    const committed = await inAgentContainer(
      fx.workspace,
      2,
      'echo first > first.txt && git add first.txt && git commit -qm "first commit" && git log -1 --format="%an <%ae>|%cn <%ce>"',
    );
    expect(committed).toMatchObject({ exitCode: 0, stdout: 'Ada Lovelace <ada@example.com>|Ada Lovelace <ada@example.com>' });
  });

  it('plain ssh (not only git) goes to the git host through the egress proxy, with no ssh-setup run', async () => {
    const shown = await inAgentContainer(fx.workspace, 2, 'ssh -G github.com && echo --- && ssh -G git.other.example');
    expect(shown.exitCode, shown.stderr).toBe(0);
    const [github = '', other = ''] = shown.stdout.split('---\n');
    expect(github.split('\n')).toEqual(
      expect.arrayContaining([
        'hostname ssh.github.com',
        'port 443',
        'user git',
        'proxycommand nc -X connect -x tinyproxy:8888 %h %p',
        'batchmode yes',
        'identityfile ${HOME}/.ssh/id_ed25519',
      ]),
    );
    // Any other host goes through the proxy too (which lets through allowed hosts and ports only).
    expect(other.split('\n')).toEqual(
      expect.arrayContaining(['hostname git.other.example', 'proxycommand nc -X connect -x tinyproxy:8888 %h %p']),
    );
  });
});
