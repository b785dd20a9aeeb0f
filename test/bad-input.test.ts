import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentCopy, devkit, expectRefused, makeDevRoot, snapshot, tempDir, type DevRootFixture } from './support/sandbox.js';

/**
 * Each bad input, tried through the CLI, exits 2 with one clear line on
 * stderr naming the problem, prints nothing on stdout, and changes nothing in
 * the dev root or the workspace.
 */
describe('bad input', () => {
  let fx: DevRootFixture;
  let outside: string;
  beforeAll(async () => {
    fx = await makeDevRoot();
    expect((await devkit(['worktrees', 'init', '3'], { cwd: fx.workspace })).exitCode).toBe(0);
    outside = tempDir('outside');
    symlinkSync(outside, path.join(fx.root, 'escape-link'));
    mkdirSync(path.join(outside, 'plain'));
  });
  afterAll(() => {
    fx.cleanup();
    rmSync(outside, { recursive: true, force: true });
  });

  type Case = [name: string, args: string[], expected: RegExp, where?: 'workspace' | 'agent2' | 'plain'];
  const cases: Case[] = [
    ['index 0', ['worktrees', 'init', '0'], /N \(the number of agents\) must be an integer from 1 to 64, got 0/],
    ['negative index', ['worktrees', 'remove', '-1'], /unknown option '-1'|must be an integer/],
    ['index that is not an integer', ['worktrees', 'init', 'abc'], /must be an integer from 1 to 64, got "abc"/],
    ['fractional index', ['worktrees', 'remove', '2.5'], /must be an integer from 1 to 64, got "2.5"/],
    ['index over the bound', ['worktrees', 'init', '65'], /must be an integer from 1 to 64, got 65 \(raise maxAgents/],
    ['removing agent 1', ['worktrees', 'remove', '1'], /agent 1 is the primary clone/],
    [
      'an agent that does not exist',
      ['worktrees', 'remove', '9'],
      /there is no agent 9 \(agents: 1, 2, 3\): make it with devkit worktrees init 9/,
    ],
    ['sync of an agent that does not exist', ['sync', '9'], /there is no agent 9 \(agents: 1, 2, 3\)/],
    ['a --root holding the workspace', ['init', '--root', '..', '--repo', 'app', '--force'], /the workspace \(.*\) is inside the dev root/],
    ['a domain of one label', ['policy', 'allow', 'com'], /HOST "com" is not a domain/],
    ['a number as a domain', ['policy', 'allow', '3'], /HOST "3" is not a domain/],
    ['an IP literal as a domain', ['policy', 'allow', '10.0.0.1'], /HOST "10.0.0.1" is not a domain/],
    ['an unknown base ref', ['worktrees', 'init', '4', '--base', 'no-such-branch'], /--base no-such-branch: no such commit/],
    ['a base ref that looks like an option', ['worktrees', 'init', '4', '--base=--all'], /--base "--all" is not a ref/],
    ['a UNC --root', ['init', '--root', '\\\\server\\share', '--repo', 'app', '--force'], /--root .* is a UNC path/],
    ['a //host --root', ['init', '--root', '//server/share', '--repo', 'app', '--force'], /--root .* is a UNC path/],
    ['a drive --root', ['init', '--root', 'C:\\dev', '--repo', 'app', '--force'], /--root .* is a Windows drive path/],
    ['a repo name with a slash', ['init', '--root', '/tmp', '--repo', 'a/b', '--force'], /repo name "a\/b" is not valid/],
    ['a repo name of ..', ['init', '--root', '/tmp', '--repo', '..', '--force'], /repo name "\.\." is not valid/],
    [
      'init over another root without --force',
      ['init', '--root', '/nonexistent-devkit-root', '--repo', 'app'],
      /already names root .* pass --force/,
    ],
    ['an unknown option', ['worktrees', 'list', '--bogus'], /unknown option '--bogus'/],
    ['an unknown command', ['worktree', 'list'], /unknown command 'worktree'.*worktrees/],
    ['notice --from escaping with ..', ['worktrees', 'notice', '--from', '../../..'], /--from "..\/..\/.." leaves .*dev/, 'agent2'],
    [
      'notice --from escaping by a symlink',
      ['worktrees', 'notice', '--from', '../../escape-link'],
      /--from "..\/..\/escape-link" leaves/,
      'agent2',
    ],
    ['notice --from a drive path', ['worktrees', 'notice', '--from', 'D:/x'], /Windows drive path/, 'agent2'],
    ['a workspace without devkit.yml', ['worktrees', 'list'], /no devkit.yml in .* run devkit init/, 'plain'],
  ];

  it.each(cases)('%s: exit 2, one line, nothing changed', async (_name, args, expected, where = 'workspace') => {
    const cwd = where === 'agent2' ? agentCopy(fx, 2) : where === 'plain' ? path.join(outside, 'plain') : fx.workspace;
    const before = snapshot(path.dirname(fx.root));
    expectRefused(await devkit(args, { cwd }), expected, { unchanged: { dir: path.dirname(fx.root), before } });
  });

  describe("the state folder and the dev root's workspace", () => {
    it('a state folder inside the dev root is refused before anything is written there', async () => {
      const before = snapshot(fx.root);
      const env = { DEVKIT_STATE_DIR: path.join(fx.root, 'state') };
      expectRefused(await devkit(['status'], { cwd: fx.workspace, env }), /devkit's state \(.*\) is inside the dev root/, {
        unchanged: { dir: fx.root, before },
      });
    });

    it('a relative DEVKIT_STATE_DIR is refused', async () => {
      expectRefused(
        await devkit(['status'], { cwd: fx.workspace, env: { DEVKIT_STATE_DIR: 'relative/state' } }),
        /DEVKIT_STATE_DIR must be an absolute path/,
      );
    });

    it('init refuses a second workspace for a dev root another one manages, and --force takes it over', async () => {
      const second = tempDir('second-workspace');
      const before = snapshot(second);
      expectRefused(
        await devkit(['init', '--root', fx.root, '--repo', 'app'], { cwd: second }),
        new RegExp(`the dev root ${fx.root} is managed by the workspace ${fx.workspace}: run devkit there, or pass --force`),
        { unchanged: { dir: second, before } },
      );
      expect((await devkit(['init', '--root', fx.root, '--repo', 'app', '--force'], { cwd: second })).exitCode).toBe(0);
      expect((await devkit(['worktrees', 'list'], { cwd: second })).exitCode).toBe(0);
      // Inside the dev root, the workspace used last is found; once its devkit.yml is gone, the one before it.
      expect((await devkit(['policy', 'show', '--json'], { cwd: agentCopy(fx, 2) })).exitCode).toBe(0);
      rmSync(path.join(second, 'devkit.yml'));
      const listed = await devkit(['worktrees', 'list', '--json'], { cwd: agentCopy(fx, 2) });
      expect(listed).toMatchObject({ exitCode: 0, stderr: '' });
      expect((await devkit(['worktrees', 'list'], { cwd: fx.workspace })).exitCode).toBe(0);
    });
  });

  describe('bad devkit.yml and environment', () => {
    const workspaces: string[] = [];
    afterAll(() => workspaces.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

    /** worktrees init 2 in a workspace with this devkit.yml: refused with `message`, the dev root unchanged. */
    async function refusedWithConfig(text: string, message: RegExp, env: Record<string, string> = {}): Promise<void> {
      const workspace = tempDir('config');
      workspaces.push(workspace);
      writeFileSync(path.join(workspace, 'devkit.yml'), text);
      const before = snapshot(fx.root);
      expectRefused(await devkit(['worktrees', 'init', '2'], { cwd: workspace, env }), message, { unchanged: { dir: fx.root, before } });
    }

    it('an unknown key is named', async () => {
      await refusedWithConfig(
        `root: ${fx.root}\nrepo: app\nmaxagents: 3\n`,
        /unknown key 'maxagents' \(known keys: root, repo, maxAgents, baseImage, egress, ssh, git, image, hooks, engine, agents, registry\)/,
      );
    });

    it('a value of the wrong type is named', async () => {
      await refusedWithConfig(`root: ${fx.root}\nrepo: app\nmaxAgents: many\n`, /'maxAgents' must be an integer from 1 to 999, got "many"/);
    });

    it.each([
      ['a name on two lines', 'git:\n  name: "Ada\\nEve"\n', /'git.name' must be one line without surrounding spaces/],
      [
        'an email with a space',
        'git:\n  email: "ada @example.com"\n',
        /'git.email' must be one line .*\(and no spaces\), got "ada @example.com"/,
      ],
      ['angle brackets', 'git:\n  agents:\n    agent3:\n      name: "Ada <x>"\n', /'git.agents.agent3.name' must be one line/],
      ['an agent that is not agentK', 'git:\n  agents:\n    bob:\n      name: Bob\n', /'git.agents.bob' is not an agent \(agentK\)/],
      ['an unknown key', 'git:\n  user: ada\n', /unknown key 'git.user' \(known keys: name, email, agents\)/],
    ])('a git identity with %s is refused', async (_what, section, message) => {
      await refusedWithConfig(`root: ${fx.root}\nrepo: app\n${section}`, message);
    });

    it.each([
      ['a number', 'hooks:\n  postCreate: 3\n', /'hooks.postCreate' must be a shell command \(a string\) or a list of them, got 3/],
      [
        'a list holding a mapping',
        "hooks:\n  preRemove: ['make clean', {run: x}]\n",
        /'hooks.preRemove' must be a shell command .*got \{"run":"x"\}/,
      ],
      ['an unknown hook', "hooks:\n  postStart: 'true'\n", /unknown key 'hooks.postStart' \(known keys: postCreate, preRemove\)/],
    ])('a hook that is %s is refused', async (_what, section, message) => {
      await refusedWithConfig(`root: ${fx.root}\nrepo: app\n${section}`, message);
    });

    it.each([
      ['a Docker Hub namespace without its host', 'team/devkit'],
      ['a URL', 'https://registry.example.com/devkit'],
      ['a path in capitals', 'registry.example.com:5000/Devkit'],
      ['a tag', 'registry.example.com/devkit:latest'],
    ])('a registry that is %s is refused', async (_what, value) => {
      await refusedWithConfig(
        `root: ${fx.root}\nrepo: app\nregistry: ${value}\n`,
        /'registry' must be a registry host with an optional path, as registry.example.com:5000\/devkit \(the host needs a dot or a port; docker.io\/NAME for Docker Hub\), got /,
      );
    });

    it('a registry that is a number is refused', async () => {
      await refusedWithConfig(`root: ${fx.root}\nrepo: app\nregistry: 5000\n`, /'registry' must be a string, got 5000/);
    });

    it('a root holding a NUL byte is refused', async () => {
      await refusedWithConfig(`root: "${fx.root}\\0x"\nrepo: app\n`, /'root' contains a NUL byte/);
    });

    it('YAML that does not parse is reported with the file', async () => {
      await refusedWithConfig('root: [unclosed\n', /devkit\.yml: not valid YAML/);
    });

    it('a repo that is not a git repo', async () => {
      const plainRoot = tempDir('plainroot');
      workspaces.push(plainRoot);
      mkdirSync(path.join(plainRoot, 'app'));
      await refusedWithConfig(`root: ${plainRoot}\nrepo: app\n`, /plainroot-\w+\/app is not a git repository/);
    });

    it('DEVKIT_ROOT overrides devkit.yml and is checked like --root', async () => {
      await refusedWithConfig(`root: ${fx.root}\nrepo: app\n`, /DEVKIT_ROOT .* is a UNC path/, { DEVKIT_ROOT: '\\\\host\\share' });
    });
  });
});
