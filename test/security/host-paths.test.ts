import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { projectPrefix } from '../../src/stack/project-names.js';
import { describeWithDocker, docker, profileContainers } from '../support/docker.js';
import { agentCopy, agentHome, devkit, expectRefused, rootStateOf, snapshot, tempDir } from '../support/sandbox.js';
import { makeArena, type Arena } from './attacker.js';

/**
 * G2. The host never follows an agent's pointer (threat-model.md, attacks 6
 * to 9, 15 and 16): no devkit command reads, writes, chmods or deletes a
 * host path outside the agent's own folders because of something an agent
 * wrote; devkit's own state lives where no container can write.
 */
describeWithDocker("G2: the host never follows an agent's pointer", () => {
  let arena: Arena;
  let victims: string;
  beforeAll(async () => {
    arena = await makeArena({ agents: 6, up: ['agent2', 'agent3', 'agent5', 'dev-all'] });
    victims = tempDir('victims');
  });
  afterAll(async () => {
    await arena?.tearDown();
    if (victims !== undefined) rmSync(victims, { recursive: true, force: true });
  });

  /** A host file an agent must never get devkit to read, change, chmod or delete. */
  function victim(name: string, content = `victim ${name}\n`): { file: string; unchanged(): void } {
    const file = path.join(victims, name);
    writeFileSync(file, content, { mode: 0o640 });
    chmodSync(file, 0o640);
    const before = { content, mode: statSync(file).mode };
    return {
      file,
      unchanged: () => expect({ content: readFileSync(file, 'utf8'), mode: statSync(file).mode }).toEqual(before),
    };
  }

  it.each([
    ['.ssh/config', '.ssh/config'],
    ['.ssh/id_ed25519', '.ssh/id_ed25519'],
    ['.ssh/id_ed25519.pub', '.ssh/id_ed25519.pub'],
    ['.gitconfig', '.gitconfig'],
  ])(
    'attack 6: a link planted at %s in the HOME is refused by ssh-setup, named in one line; the host file is untouched',
    async (_name, where) => {
      const target = victim(where.replaceAll('/', '_'));
      const home = agentHome(arena.fx, 2);
      const plant = await arena.inAgent(
        2,
        `mkdir -p $HOME/.ssh && rm -f $HOME/${where} && ln -s ${target.file} $HOME/${where} && echo planted`,
      );
      expect(plant).toMatchObject({ exitCode: 0, stdout: 'planted' });
      const result = await arena.run(['ssh-setup', '--index', '2']);
      expectRefused(result, new RegExp(`refusing ${path.join(home, where).replace(/[.]/g, '\\.')}: it is a symbolic link`), {
        exitCode: 1,
      });
      expect(result.stderr).not.toContain('victim');
      target.unchanged();
      expect(lstatSync(path.join(home, where)).isSymbolicLink()).toBe(true);
      await arena.inAgent(2, `rm -f $HOME/${where}`);
    },
  );

  it('attack 6: .ssh itself a link to a host folder is refused; a farm of links at predictable temp names redirects nothing', async () => {
    const dir = path.join(victims, 'ssh-dir');
    mkdirSync(dir);
    const inside = victim('ssh-dir/config');
    await arena.inAgent(2, `rm -rf $HOME/.ssh && ln -s ${dir} $HOME/.ssh`);
    expectRefused(await arena.run(['ssh-setup', '--index', '2']), /refusing .*\.devhome-agent2\/\.ssh: it is a symbolic link/, {
      exitCode: 1,
    });
    expect(readdirSync(dir)).toEqual(['config']);
    inside.unchanged();

    // 0.1.0 wrote FILE.PID.tmp then renamed it: links at every pid soon to come sent the write anywhere.
    const target = victim('farm-target');
    const next = Number(readFileSync('/proc/sys/kernel/ns_last_pid', 'utf8'));
    await arena.inAgent(
      2,
      `rm -f $HOME/.ssh && mkdir -p $HOME/.ssh && for p in $(seq ${next} ${next + 3000}); do ln -s ${target.file} $HOME/.ssh/config.$p.tmp; ln -s ${target.file} $HOME/.gitconfig.$p.tmp; done`,
    );
    expect((await arena.run(['ssh-setup', '--index', '2'])).exitCode).toBe(0);
    target.unchanged();
    expect(lstatSync(path.join(agentHome(arena.fx, 2), '.ssh', 'config')).isFile()).toBe(true);
  });

  it('attack 7: a team record naming a path outside the layout, another agent or a foreign project is refused whole, and nothing is removed', async () => {
    const { fx } = arena;
    // A container cannot write devkit's state at all: it is in the user's state folder, not the shared .git.
    const fromAgent = await arena.inAgent(
      3,
      `mkdir -p ${fx.primary}/.git/devkit-teams && echo x > ${fx.primary}/.git/devkit-teams/evil.json && echo WROTE`,
    );
    expect(fromAgent.stdout).not.toContain('WROTE');
    // And a record that was forged anyway (a bug, a bad disk) is checked before devkit acts on a word of it.
    const folder = path.join(victims, 'victim-folder');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'precious'), 'keep me\n');
    const foreign = await docker(['network', 'create', '--label', 'devkit.test=foreign', `devkit-test-foreign-${process.pid}`]);
    const prefix = projectPrefix({ root: fx.root, repo: fx.repo });
    const forged = [
      {
        index: 7,
        agent: path.relative(fx.root, folder).replace(/^/, '../../../..'),
        worktree: folder,
        project: `${prefix}-agent7`,
        containers: [],
        state: 'created',
      },
      {
        index: 3,
        agent: 'agent3',
        worktree: agentCopy(fx, 3),
        project: `devkit-test-foreign-${process.pid}`,
        containers: [],
        state: 'created',
      },
    ];
    for (const [i, member] of forged.entries()) {
      writeFileSync(
        path.join(rootStateOf(fx), 'teams', `evil${i}.json`),
        JSON.stringify({ name: `evil${i}`, session: 'evil', createdAt: 'now', members: [member] }),
      );
      const result = await arena.run(['session', 'cleanup', 'evil', '--force']);
      expectRefused(result, /team record .*evil\d\.json does not match devkit's layout .*: devkit will not act on it; remove it by hand/, {
        exitCode: 1,
      });
      rmSync(path.join(rootStateOf(fx), 'teams', `evil${i}.json`));
    }
    expect(readFileSync(path.join(folder, 'precious'), 'utf8')).toBe('keep me\n');
    expect(await docker(['network', 'inspect', '--format', '{{.Id}}', foreign])).toBe(foreign);
    expect(await profileContainers(fx.root, 'agent3', { running: true })).not.toBe('');
    await docker(['network', 'rm', foreign]);
  });

  it("attack 8: the copy's .git made a link to a host file; worktrees prune --apply writes nothing through it", async () => {
    const target = victim('prune-target');
    const attack = await arena.inAgent(5, `rm -rf /workspace/.git && ln -s ${target.file} /workspace/.git && echo done`);
    expect(attack).toMatchObject({ exitCode: 0, stdout: 'done' });
    const before = snapshot(arena.fx.root);
    const pruned = await arena.run(['worktrees', 'prune', '--apply', '--json']);
    expect(pruned.exitCode).toBe(0);
    const findings = (JSON.parse(pruned.stdout) as { findings: Array<{ kind: string; index: number; applied: boolean }> }).findings;
    expect(findings).toContainEqual(expect.objectContaining({ kind: 'copy-tampered', index: 5, applied: false }));
    target.unchanged();
    expect(snapshot(arena.fx.root)).toEqual(before);
  });

  it('attack 9: a workspace inside the dev root is refused, by init and by every command; a devkit.yml a dev-all agent plants is never read', async () => {
    const { fx } = arena;
    const planted = await arena.inDevAll(
      2,
      `agent2/${fx.repo}`,
      `printf 'root: /\\nrepo: etc\\negress: { allow: [evil.example.com] }\\n' > devkit.yml && ` +
        `printf 'services:\\n  dev:\\n    volumes: [{ type: bind, source: /, target: /host }]\\n' > compose.yml && echo planted`,
    );
    expect(planted).toMatchObject({ exitCode: 0, stdout: 'planted' });
    const inside = agentCopy(fx, 2);
    for (const args of [
      ['-p', 'agent2', 'up'],
      ['worktrees', 'list'],
      ['policy', 'show'],
    ]) {
      expectRefused(
        await devkit(args, { cwd: inside }),
        /devkit\.yml is inside the dev root .* where agents can write: devkit does not trust it/,
      );
    }
    const ws = path.join(fx.root, 'agent6', 'ws');
    mkdirSync(ws, { recursive: true });
    expectRefused(await devkit(['init', '--root', fx.root, '--repo', fx.repo], { cwd: ws }), /the workspace \(.*\) is inside the dev root/);
    expect(existsSync(path.join(ws, 'devkit.yml'))).toBe(false);
    // Nothing devkit started mounts a host path outside the dev root and its own files.
    const ids = (await docker(['ps', '-q', '--filter', `label=devkit.root=${fx.root}`])).split('\n').filter(Boolean);
    for (const id of ids) {
      const mounts = JSON.parse(await docker(['inspect', '--format', '{{json .Mounts}}', id])) as Array<{ Type: string; Source: string }>;
      for (const mount of mounts.filter((m) => m.Type === 'bind')) {
        expect({ id, source: mount.Source, ok: mount.Source.startsWith(fx.root) || mount.Source.startsWith(fx.workspace) }).toEqual({
          id,
          source: mount.Source,
          ok: true,
        });
      }
    }
  });

  it("attack 15: an agent making another agent look gone (its admin entry, its lock) does not get gc to remove that agent's running containers", async () => {
    const shared = path.join(arena.fx.primary, '.git');
    // 0.1.0 kept every agent's worktree admin folder in the shared .git, writable by all: point them all nowhere, unlock them.
    const tamper = await arena.inAgent(
      2,
      `for d in ${shared}/worktrees/*; do echo /nowhere/.git > $d/gitdir; rm -f $d/locked; done 2>/dev/null; ` +
        `rm -rf /workspace/.git && echo 'gitdir: /nowhere' > /workspace/.git; true`,
    );
    expect(tamper.exitCode).toBe(0);
    expect((await arena.run(['gc'])).exitCode).toBe(0);
    for (const profile of ['agent2', 'agent3', 'agent5']) {
      expect({
        profile,
        running:
          (await docker([
            'ps',
            '-q',
            '--filter',
            `label=devkit.root=${arena.fx.root}`,
            '--filter',
            `label=devkit.profile=${profile}`,
            '--filter',
            'status=running',
          ])) !== '',
      }).toEqual({ profile, running: true });
    }
    expect(existsSync(path.join(arena.fx.workspace, 'overlays', 'agent2', 'compose.override.yml'))).toBe(true);
  });

  it('attack 16: a forged subnet reservation cannot make devkit create a network for a range of its choosing', async () => {
    const { fx } = arena;
    const fromAgent = await arena.inAgent(3, `echo '{}' > ${fx.primary}/.git/devkit-subnets.json && echo WROTE`);
    expect(fromAgent.stdout).not.toContain('WROTE');
    const file = path.join(rootStateOf(fx), 'subnets.json');
    const project = `${projectPrefix({ root: fx.root, repo: fx.repo })}-agent6`;
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), [project]: '198.18.77.0/28' }));
    expect((await arena.run(['-p', 'agent6', 'up'])).exitCode).toBe(0);
    const subnet = await docker(['network', 'inspect', '--format', '{{(index .IPAM.Config 0).Subnet}}', `${project}_internal`]);
    expect(subnet).toMatch(/^10\.213\.\d+\.\d+\/28$/);
    // No network of this dev root took the forged range (other networks on the engine are not this test's to judge).
    const ours = (await docker(['network', 'ls', '--format', '{{.Name}}']))
      .split('\n')
      .filter((name) => name.startsWith(`${project.replace(/-agent6$/, '')}-`));
    const subnets = await Promise.all(
      ours.map((name) => docker(['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}} {{end}}', name])),
    );
    expect(subnets.join(' ')).not.toContain('198.18.77.');
    expect((await arena.run(['-p', 'agent6', 'down'])).exitCode).toBe(0);
  });
});
