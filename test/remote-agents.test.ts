import { execa } from 'execa';
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { agentVolumes, projectPrefix } from '../src/stack/project-names.js';
import { describeWithDocker, profileContainers, removeStacks } from './support/docker.js';
import { DNS_SERVER, HTTP_SERVER } from './support/internet.js';
import {
  agentCopy,
  agentHome,
  agentRecords,
  backupsRepo,
  devkit,
  expectRefused,
  git,
  makeDevRoot,
  rootStateOf,
  snapshot,
  tempDir,
  type DevRootFixture,
  type RunResult,
} from './support/sandbox.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { startSecondEngine, type SecondEngine } from './support/second-engine.js';

/**
 * Issue 13: agents on remote engines. A second engine (test/support/second-engine.ts)
 * reached over TCP through a docker context stands in for a remote machine;
 * devkit.yml places agent 2 there (agents.agent2.engine) and agent 3 on this
 * machine's engine, and names a registry (test/support/registry.ts) the
 * second engine pulls devkit's images from. One engine and one dev root for
 * the whole file: the tests run in order (up, egress, status, sync, remove).
 */

/** The test's stand-in for the internet on the second engine's side: a network there, sites at fixed addresses. */
const SITES_SUBNET = '10.213.0.0/24';
const ALLOWED_SITE = '10.213.0.10';
const BLOCKED_SITE = '10.213.0.11';
/** The sites' DNS server, egress.resolvers: the second engine has no way out to the host's nameservers. */
const RESOLVER = '10.213.0.53';

describeWithDocker('agents on a remote engine (devkit issue 13)', () => {
  let engine: SecondEngine | undefined;
  let fx: DevRootFixture | undefined;
  let registry: TestRegistry | undefined;
  /** What agent 2's first up said on stderr. */
  let agent2Up = '';
  const network = `devkit-test-remote-${process.pid}`;
  const second = (): SecondEngine => {
    if (engine === undefined) throw new Error('no second engine');
    return engine;
  };
  const fixture = (): DevRootFixture => {
    if (fx === undefined) throw new Error('no dev root');
    return fx;
  };
  /**
   * devkit as a user runs it: the engine the docker CLI would use is this
   * machine's (no DOCKER_HOST, no DOCKER_CONTEXT), and the docker config
   * holding the second engine's context is the one devkit reads.
   */
  const env = (): Record<string, string> => ({ DOCKER_CONFIG: second().dockerConfig, DOCKER_HOST: '', DOCKER_CONTEXT: '' });
  const run = (args: readonly string[]): Promise<RunResult> => devkit(args, { cwd: fixture().workspace, env: env() });
  const inAgent2 = (script: string): Promise<RunResult> => run(['-p', 'agent2', 'exec-cd', '2', '.', 'sh', '-c', script]);
  /** The docker CLI on the second engine, through its context. */
  const engine2 = async (args: readonly string[]): Promise<string> =>
    (await execa('docker', ['--context', second().contextName, ...args], { env: env(), stdin: 'ignore' })).stdout.trim();
  const sharedBranch = (branch: string): Promise<string> => git(fixture().primary, ['rev-parse', '--verify', '-q', branch]);
  const volumes = (index = 2) => agentVolumes({ root: fixture().root, repo: fixture().repo }, index);
  const backupsRefs = (): Promise<string> =>
    git(fixture().primary, ['--git-dir', backupsRepo(fixture()), 'for-each-ref', '--format=%(refname) %(objectname)']);
  const volumeNames = async (): Promise<string[]> => (await engine2(['volume', 'ls', '--format', '{{.Name}}'])).split('\n');

  beforeAll(async () => {
    engine = await startSecondEngine();
    fx = await makeDevRoot();
    // The registry, on this machine's loopback and the second engine's, under one name; the user logged in to it.
    registry = await startRegistry();
    await registry.reachFrom(engine);
    registry.login(engine.dockerConfig);
    // The sites' network, on both engines: egress.networks is the workspace's, and agent 3's up checks it exists here too.
    await engine2(['network', 'create', '--subnet', SITES_SUBNET, '--label', 'devkit.test=remote-agents', network]);
    await execa('docker', ['network', 'create', '--label', 'devkit.test=remote-agents', network]);
    appendFileSync(
      `${fixture().workspace}/devkit.yml`,
      [
        'agents:',
        '  agent2:',
        `    engine: ${second().contextName}`,
        // Agent 4 (made by the attack test) is the hostile one.
        '  agent4:',
        `    engine: ${second().contextName}`,
        `registry: ${registry.address}/devkit`,
        'egress:',
        '  allow: [allowed.devkit.test]',
        // The allowed site sits at a private address, which the dns sidecar gives out only for a name devkit.yml names with it.
        `  hosts: { allowed.devkit.test: ${ALLOWED_SITE} }`,
        `  networks: [${network}]`,
        `  resolvers: [${RESOLVER}]`,
        // Hooks run for a remote agent on its engine: postCreate in its dev container, preRemove in one made for it.
        'hooks:',
        `  postCreate: 'echo "postCreate in $PWD on $(git symbolic-ref --short HEAD)" > "$HOME/.post-create"'`,
        `  preRemove: 'echo "preRemove in $PWD on $(git symbolic-ref --short HEAD) at $(hostname)"'`,
        '',
      ].join('\n'),
    );
    expect(await run(['worktrees', 'init', '3'])).toMatchObject({ exitCode: 0 });
    const up = await run(['-p', 'agent2', 'up']);
    expect(up).toMatchObject({ exitCode: 0 });
    agent2Up = up.stderr;
    expect(await run(['-p', 'agent3', 'up'])).toMatchObject({ exitCode: 0 });
    // The image devkit copied there runs the sites and their DNS server.
    const sites: Array<[name: string, address: string, script: string]> = [
      ['allowed', ALLOWED_SITE, HTTP_SERVER('allowed')],
      ['blocked', BLOCKED_SITE, HTTP_SERVER('blocked')],
      ['dns', RESOLVER, DNS_SERVER({ 'allowed.devkit.test': ALLOWED_SITE, 'blocked.devkit.test': BLOCKED_SITE }, { forward: false })],
    ];
    for (const [name, address, script] of sites) {
      const labelled = ['--init', '--name', `${network}-${name}`, '--label', 'devkit.test=remote-agents'];
      await engine2(['run', '-d', ...labelled, '--network', network, '--ip', address, 'devkit/dev:local', 'sh', '-c', script]);
    }
  }, 600_000);

  afterAll(async () => {
    if (fx !== undefined) {
      await removeStacks(fx.root);
      fx.cleanup();
    }
    await execa('docker', ['network', 'rm', network], { reject: false });
    // Everything made on the second engine (stacks, volumes, sites, networks) goes with it.
    await engine?.destroy();
    await registry?.stop();
  }, 120_000);

  it('runs agent 2 on the engine its context names, in its own copy and HOME there, with no host folder mounted', async () => {
    const { contextName } = second();
    const there = await inAgent2(
      'pwd; git symbolic-ref --short HEAD; echo "$HOME"; git config --show-origin user.name; hostname; cat "$HOME/.post-create"',
    );
    expect(there).toMatchObject({ exitCode: 0 });
    const [cwd, branch, home, gitName, hostname, postCreate] = there.stdout.split('\n');
    // devkit.yml's postCreate hook ran there, as agent 2, once its copy was made.
    expect(postCreate).toBe('postCreate in /workspace on agent2/main');
    expect({ cwd, branch, home }).toEqual({ cwd: '/workspace', branch: 'agent2/main', home: '/workspace/.devhome' });
    // git's identity comes from the .gitconfig devkit put in that HOME.
    expect(gitName).toMatch(/^file:\/workspace\/\.devhome\/\.gitconfig\t\S/);
    // The container it ran in is agent 2's dev container on the second engine, and the local engine has none.
    const remoteDev = await engine2([
      'ps',
      '--filter',
      `label=devkit.root=${fixture().root}`,
      '--filter',
      'label=devkit.profile=agent2',
      '--filter',
      'label=com.docker.compose.service=dev',
      '--format',
      '{{.ID}}',
    ]);
    expect(remoteDev).toMatch(/^[0-9a-f]{12}$/);
    expect(hostname).toBe(remoteDev);
    expect(await profileContainers(fixture().root, 'agent2')).toBe('');
    expect(await profileContainers(fixture().root, 'agent3', { service: 'dev', running: true })).toMatch(/^[0-9a-f]{12}$/);
    // Its copy and HOME are volumes there, none on this machine; its record names the context.
    expect(await volumeNames()).toEqual(expect.arrayContaining([volumes().copy, volumes().home]));
    expect([existsSync(agentCopy(fixture(), 2)), existsSync(agentHome(fixture(), 2))]).toEqual([false, false]);
    expect([existsSync(agentCopy(fixture(), 3)), existsSync(agentHome(fixture(), 3))]).toEqual([true, true]);
    const record = JSON.parse(readFileSync(path.join(rootStateOf(fixture()), 'agents', 'agent2.json'), 'utf8')) as { engine?: string };
    expect(record.engine).toBe(contextName);
    // No container on the second engine mounts a folder of this machine.
    const ids = (await engine2(['ps', '-aq'])).split('\n');
    expect(ids.length).toBeGreaterThanOrEqual(4);
    const mounts = JSON.parse(
      await engine2(['inspect', '--format', '{{json .Mounts}}', ...ids]).then((out) => `[${out.split('\n').join(',')}]`),
    ) as Array<Array<{ Type: string; Source: string; Destination: string }>>;
    expect(mounts.flat().filter((mount) => mount.Type === 'bind')).toEqual([]);
  });

  it("pulled the stack's images there from devkit.yml's registry, the very images built here, and left no registry names behind", async () => {
    const address = registry?.address ?? '';
    const where = `tcp://${second().address}:2375 \\(context ${second().contextName}\\)`;
    const pulled = [...agent2Up.matchAll(new RegExp(`^pulling (\\S+) from ${address}/devkit on ${where}: \\d+\\.\\d MiB in`, 'gm'))].map(
      (match) => match[1] ?? '',
    );
    // The dev image and the sidecars' (proxy, dns).
    expect(pulled).toEqual(expect.arrayContaining(['devkit/dev:local', 'devkit/proxy:local', 'devkit/dns:local']));
    expect(agent2Up).not.toMatch(/^copying /m);
    for (const tag of pulled) {
      const [here, there] = await Promise.all([
        execa('docker', ['image', 'inspect', '--format', '{{.Id}}', tag]),
        engine2(['image', 'inspect', '--format', '{{.Id}}', tag]),
      ]);
      expect({ tag, id: there }).toEqual({ tag, id: here.stdout });
    }
    expect(await registry?.repositories()).toEqual(
      expect.arrayContaining(['devkit/devkit/dev', 'devkit/devkit/proxy', 'devkit/devkit/dns']),
    );
    const names = [
      ...(await execa('docker', ['image', 'ls', '--format', '{{.Repository}}'])).stdout.split('\n'),
      ...(await engine2(['image', 'ls', '--format', '{{.Repository}}'])).split('\n'),
    ];
    expect(names.filter((name) => name.startsWith(address))).toEqual([]);
  });

  it('lets the allowlisted site on its engine answer through its proxy, refuses another with 403, and nothing bypasses the proxy', async () => {
    expect(await inAgent2('curl -s -m 5 http://allowed.devkit.test/')).toMatchObject({ exitCode: 0, stdout: 'hello from allowed' });
    const blocked = await inAgent2('curl -s -m 5 -o /dev/null -w "%{http_code}" http://blocked.devkit.test/');
    expect(blocked.stdout).toBe('403');
    // Straight to the sites, by name and by address (side by side: each waits out its timeout): dev has no way there.
    const targets = ['allowed.devkit.test', ALLOWED_SITE, BLOCKED_SITE];
    const direct = await inAgent2(
      `${targets.map((target) => `(curl -s -m 3 --noproxy '*' http://${target}/ >/dev/null && echo "${target} answered" || echo "${target} unreachable") &`).join(' ')} wait`,
    );
    expect(direct.stdout.split('\n').sort()).toEqual(targets.map((target) => `${target} unreachable`).sort());
  });

  it("lists both agents in one devkit status, naming each one's engine, and the rest when the second engine does not answer", async () => {
    const { contextName } = second();
    const rowOf = (stdout: string, name: string): string => stdout.split('\n').find((line) => line.startsWith(`${name} `)) ?? '';
    const both = await run(['status']);
    expect(both.exitCode).toBe(0);
    const header = both.stdout.split('\n')[0] ?? '';
    expect(header).toMatch(/\bENGINE\b/);
    expect(rowOf(both.stdout, 'agent2')).toContain(contextName);
    expect(rowOf(both.stdout, 'agent2')).toMatch(/\brunning\b/);
    expect(rowOf(both.stdout, 'agent3')).not.toContain(contextName);
    expect(rowOf(both.stdout, 'agent3')).toMatch(/\brunning\b/);

    await second().stop();
    try {
      const without = await run(['status']);
      expect(rowOf(without.stdout, 'agent3')).toMatch(/\brunning\b/);
      expect(without.stderr.split('\n')).toContainEqual(expect.stringContaining(contextName));
    } finally {
      await second().start();
    }
  });

  it('brings a commit made there home with devkit sync, and its uncommitted work to the sync ref in the backups', async () => {
    // The engine restarted above: its containers come back with up.
    expect(await run(['-p', 'agent2', 'up'])).toMatchObject({ exitCode: 0 });
    const made = await inAgent2(
      'echo remote > remote.txt && git add remote.txt && git commit -qm "made on the second engine" && git rev-parse HEAD && ' +
        'echo changed >> README && echo new > untracked.txt',
    );
    expect(made).toMatchObject({ exitCode: 0 });
    const commit = made.stdout.trim();
    expect(await sharedBranch('agent2/main')).not.toBe(commit);

    // What the agent's engine sends is held in memory to be checked: past DEVKIT_SYNC_MAX_BYTES, nothing is taken.
    const before = await backupsRefs();
    const capped = await devkit(['sync', '2'], { cwd: fixture().workspace, env: { ...env(), DEVKIT_SYNC_MAX_BYTES: '100' } });
    expect(capped.exitCode).toBe(1);
    expect(capped.stderr).toContain("agent 2's copy on its engine sent more than 100 bytes to sync: nothing was taken");
    expect(await sharedBranch('agent2/main')).not.toBe(commit);
    expect(await backupsRefs()).toBe(before);

    const synced = await run(['sync', '2']);
    expect(synced).toMatchObject({ exitCode: 0 });
    expect(await sharedBranch('agent2/main')).toBe(commit);
    // The sync says where the uncommitted work went: the backups of devkit's state, never the shared repo.
    expect(synced.stderr).toContain(`agent2's uncommitted work is at refs/devkit/sync/agent2 in ${backupsRepo(fixture())}`);
    const backups = ['--git-dir', backupsRepo(fixture())];
    expect(await git(fixture().primary, [...backups, 'rev-parse', 'refs/devkit/sync/agent2^1'])).toBe(commit);
    expect(await git(fixture().primary, [...backups, 'show', 'refs/devkit/sync/agent2:README'])).toBe('second\nchanged');
    expect(await git(fixture().primary, [...backups, 'show', 'refs/devkit/sync/agent2:untracked.txt'])).toBe('new');
    expect(await git(fixture().primary, ['for-each-ref', 'refs/devkit'])).toBe('');

    // The conflict radar sees agent 2's work by that snapshot: agent 3, here, changing the end of README too meets it.
    const readme = path.join(agentCopy(fixture(), 3), 'README');
    const original = readFileSync(readme, 'utf8');
    appendFileSync(readme, 'local\n');
    try {
      const conflicts = await run(['conflicts', '--json']);
      expect(conflicts).toMatchObject({ exitCode: 0 });
      expect(JSON.parse(conflicts.stdout)).toMatchObject({ agents: [2, 3], pairs: [{ agents: [2, 3], files: ['README'] }] });
      const status = JSON.parse((await run(['status', '--json'])).stdout) as { agents: Array<{ index: number; conflicts: number | null }> };
      expect(status.agents.filter((row) => row.index >= 2).map((row) => [row.index, row.conflicts])).toEqual([
        [2, 1],
        [3, 1],
      ]);
    } finally {
      writeFileSync(readme, original);
    }
    expect(JSON.parse((await run(['conflicts', '--json'])).stdout)).toMatchObject({ agents: [2, 3], pairs: [] });
  });

  it('refuses to remove agent 2 while its engine does not answer, changing nothing, then syncs it first and removes its copy', async () => {
    const made = await inAgent2('echo later >> remote.txt && git commit -qam "unsynced" && git rev-parse HEAD');
    expect(made).toMatchObject({ exitCode: 0 });
    const unsynced = made.stdout.trim();
    const before = await sharedBranch('agent2/main');
    expect(before).not.toBe(unsynced);
    expect(await run(['-p', 'agent2', 'down'])).toMatchObject({ exitCode: 0 });

    await second().stop();
    try {
      const workspace = snapshot(fixture().workspace);
      const backupRefs = await backupsRefs();
      const refused = await run(['worktrees', 'remove', '2']);
      expectRefused(refused, new RegExp(`cannot reach .*\\(context ${second().contextName}\\).*agent 2's copy .*removes nothing`), {
        exitCode: 1,
        unchanged: { dir: fixture().workspace, before: workspace },
      });
      expect(agentRecords(fixture())).toEqual([2, 3]);
      expect(await sharedBranch('agent2/main')).toBe(before);
      expect(await backupsRefs()).toBe(backupRefs);
    } finally {
      await second().start();
    }

    // It still holds the uncommitted work of the test above: --force keeps that in devkit's backups.
    const removed = await run(['worktrees', 'remove', '2', '--force']);
    expect(removed).toMatchObject({ exitCode: 0 });
    // Its preRemove hook ran first, on its engine, in its copy (a container of its own: the dev container was down).
    const preRemove = readFileSync(path.join(rootStateOf(fixture()), 'hooks', 'agent2', 'preRemove.log'), 'utf8');
    expect(preRemove).toMatch(/^preRemove in \/workspace on agent2\/main at [0-9a-f]{12}\n$/);
    expect(await sharedBranch('agent2/main')).toBe(unsynced);
    expect(agentRecords(fixture())).toEqual([3]);
    const left = await volumeNames();
    expect(left).not.toContain(volumes().copy);
    expect(left).toContain(volumes().home);
    // The uncommitted work is in a removal backup, which the output names.
    const backup = /refs\/devkit\/backup\/agent2\/\S+/.exec(await backupsRefs())?.[0] ?? 'no backup ref';
    expect(`${removed.stdout}\n${removed.stderr}`).toContain(`backup/${backup.split('/').pop() ?? ''}`);
    const backups = ['--git-dir', backupsRepo(fixture())];
    expect(await git(fixture().primary, [...backups, 'show', `${backup}:untracked.txt`])).toBe('new');
    expect(await git(fixture().primary, [...backups, 'show', `${backup}:README`])).toBe('second\nchanged');
  });
  it('holds against a hostile agent 4 there: its engine API is out of reach, forged refs and its git config and hooks do nothing on the host, and what it hides from git is work removal keeps', async () => {
    const markers = tempDir('remote-markers');
    const mark = (name: string): string => `touch ${markers}/${name}`;
    expect(await run(['worktrees', 'init', '4'])).toMatchObject({ exitCode: 0 });
    expect(await run(['-p', 'agent4', 'up'])).toMatchObject({ exitCode: 0 });
    const inAgent4 = (script: string): Promise<RunResult> => run(['-p', 'agent4', 'exec-cd', '4', '.', 'sh', '-c', script]);

    // G4 there as here: no uid 0, no capabilities, no new privileges.
    const inside = (await inAgent4("id -u; grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status")).stdout.split('\n');
    expect(inside[0]).not.toBe('0');
    expect(inside.slice(1)).toEqual(['CapEff:\t0000000000000000', 'CapBnd:\t0000000000000000', 'NoNewPrivs:\t1']);
    // Its engine's own API (root on that machine) answers on the engine's address: neither straight nor through the proxy.
    const api = `http://${second().address}:2375/version`;
    const tried = await inAgent4(
      `curl -s -m 3 --noproxy '*' -o /dev/null -w 'direct %{http_code}\n' ${api}; curl -s -m 3 -o /dev/null -w 'proxied %{http_code}\n' ${api}`,
    );
    expect(tried.stdout.split('\n')).toEqual(['direct 000', 'proxied 403']);

    // Everything git on the host could be made to run, planted in its copy's .git; a commit that names the filter.
    const hooks = ['reference-transaction', 'post-checkout', 'post-merge', 'pre-commit', 'post-commit'];
    const planted = await inAgent4(
      [
        'set -e',
        `git config core.fsmonitor "${mark('fsmonitor')}; false"`,
        'mkdir -p .git/evil-hooks && git config core.hooksPath .git/evil-hooks',
        ...hooks.map((hook) => `printf '#!/bin/sh\\n${mark(hook)} 2>/dev/null; exit 0\\n' > .git/evil-hooks/${hook}`),
        'chmod +x .git/evil-hooks/*',
        `git config filter.evil.clean "${mark('filter')} 2>/dev/null; cat" && git config diff.evil.command "${mark('diff')}"`,
        "printf '* filter=evil diff=evil\\n' > .gitattributes && echo changed >> README && git add -A && git commit -qm attributes",
        // Refs of others and of devkit, forged in its own repository.
        'git update-ref refs/heads/agent3/main HEAD && git update-ref refs/heads/main HEAD',
        'git update-ref refs/devkit/backup/agent3/forged HEAD',
        // Work it hides from git: every untracked file excluded, an ignored-looking .env, a nested repository of its own.
        "printf '*\\n' >> .git/info/exclude && echo SECRET=1 > .env && echo notes > notes.txt",
        'git init -q nested && git -C nested commit -q --allow-empty -m "only in the nested repository"',
        'git status --porcelain',
        'git rev-parse HEAD',
      ].join('\n'),
    );
    expect(planted).toMatchObject({ exitCode: 0 });
    // git itself sees nothing uncommitted: all of it is hidden.
    const head = planted.stdout.trim();
    expect(head).toMatch(/^[0-9a-f]{40}$/);

    const before = { agent3: await sharedBranch('agent3/main'), main: await sharedBranch('main'), backups: await backupsRefs() };
    const synced = await run(['sync', '4']);
    expect(synced).toMatchObject({ exitCode: 0 });
    expect(synced.stderr).toContain("agent4's branches");
    expect(await sharedBranch('agent4/main')).toBe(head);
    expect({ agent3: await sharedBranch('agent3/main'), main: await sharedBranch('main') }).toEqual({
      agent3: before.agent3,
      main: before.main,
    });
    const notSyncRef = (refs: string): string[] => refs.split('\n').filter((line) => !line.startsWith('refs/devkit/sync/agent4 '));
    expect(notSyncRef(await backupsRefs())).toEqual(notSyncRef(before.backups));
    // What reads its branch on the host (status and diff sync it again) runs none of it.
    expect(await run(['status'])).toMatchObject({ exitCode: 0 });
    expect(await run(['diff', '4'])).toMatchObject({ exitCode: 0 });
    expect(readdirSync(markers)).toEqual([]);

    // The forged refs gone (they alone would refuse a removal), it is stopped: what it hid is still work.
    expect(await inAgent4('git update-ref -d refs/heads/agent3/main && git update-ref -d refs/heads/main')).toMatchObject({ exitCode: 0 });
    expect(await inAgent4('git update-ref -d refs/devkit/backup/agent3/forged')).toMatchObject({ exitCode: 0 });
    expect(await run(['-p', 'agent4', 'down'])).toMatchObject({ exitCode: 0 });
    const refused = await run(['worktrees', 'remove', '4']);
    expectRefused(refused, /agent 4 holds uncommitted work, 0 changed and 3 new file\(s\) counting ignored ones and nested repositories/, {
      exitCode: 1,
    });
    expect(await volumeNames()).toContain(volumes(4).copy);
    // (worktrees init 4 made agent 2 again too: it has no copy there until its up.)
    expect(agentRecords(fixture())).toEqual([2, 3, 4]);

    const removed = await run(['worktrees', 'remove', '4', '--force']);
    expect(removed).toMatchObject({ exitCode: 0 });
    expect(await volumeNames()).not.toContain(volumes(4).copy);
    const backup = /refs\/devkit\/backup\/agent4\/\S+/.exec(await backupsRefs())?.[0] ?? 'no backup ref';
    const backups = ['--git-dir', backupsRepo(fixture())];
    expect(await git(fixture().primary, [...backups, 'show', `${backup}:.env`])).toBe('SECRET=1');
    expect(await git(fixture().primary, [...backups, 'show', `${backup}:notes.txt`])).toBe('notes');
    // The nested repository is kept whole, its history with it.
    const tar = await execa('git', [...backups, 'cat-file', 'blob', `${backup}:.devkit-backup/nested/nested.tar`], {
      cwd: fixture().primary,
      encoding: 'buffer',
    });
    const unpacked = tempDir('remote-nested');
    await execa('tar', ['-x', '--no-same-owner', '-C', unpacked], { input: Buffer.from(tar.stdout) });
    expect(await git(path.join(unpacked, 'nested'), ['log', '--format=%s'])).toBe('only in the nested repository');
    expect(readdirSync(markers)).toEqual([]);
  });

  it("names and removes what is left on the second engine with doctor and gc (a stopped devkit's helper, a removed agent's stack), and nothing else", async () => {
    // Agent 2 was made again (the test above) but never brought up: nothing of it runs there, and its record stays.
    const root = ['--label', `devkit.root=${fixture().root}`];
    const sleeper = ['devkit/dev:local', 'sleep', '3600'];
    const helper = await engine2(['run', '-d', ...root, '--label', 'devkit.agent=agent2', '--label', 'devkit.helper=volumes', ...sleeper]);
    const project = `${projectPrefix({ root: fixture().root, repo: fixture().repo })}-agent7`;
    await engine2(['run', '-d', ...root, '--label', 'devkit.agent=agent7', '--label', `com.docker.compose.project=${project}`, ...sleeper]);
    const sites = await engine2(['ps', '-q', '--filter', 'label=devkit.test=remote-agents']);

    const doctor = await run(['doctor', '--json']);
    expect(doctor.exitCode, doctor.stderr).toBe(1);
    const targets = (JSON.parse(doctor.stdout) as { findings: Array<{ garbage: boolean; target: unknown }> }).findings
      .filter((f) => f.garbage)
      .map((f) => f.target);
    expect(targets).toEqual(
      expect.arrayContaining([
        { kind: 'container', name: helper, engine: second().contextName },
        { kind: 'project', name: project, engine: second().contextName },
      ]),
    );

    const gc = await run(['gc']);
    expect(gc.exitCode, gc.stderr).toBe(0);
    expect(gc.stdout).toContain(`removed helper container ${helper.slice(0, 12)} on docker context ${second().contextName}`);
    expect(gc.stdout).toContain(`removed 1 container(s) and 0 network(s) of ${project} on docker context ${second().contextName}`);
    expect(await engine2(['ps', '-aq', '--filter', `label=devkit.root=${fixture().root}`])).toBe('');
    expect(await engine2(['ps', '-q', '--filter', 'label=devkit.test=remote-agents'])).toBe(sites);
    const again = JSON.parse((await run(['doctor', '--json'])).stdout) as { findings: Array<{ garbage: boolean }> };
    expect(again.findings.filter((f) => f.garbage)).toEqual([]);
    // A remote agent has no folder here: that is no sign its copy went, and gc forgets no such agent.
    expect(agentRecords(fixture())).toEqual([2, 3]);
  });
});
