import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pollUntil } from '../src/poll.js';
import { describeWithDocker, docker, profileContainers, removeStacks } from './support/docker.js';
import { devkit, expectRefused, inAgentContainer, makeDevRoot, snapshot, type DevRootFixture } from './support/sandbox.js';

interface Range {
  first: number;
  last: number;
}

interface PortsJson {
  agents: Array<{ index: number; name: string; host: string; ports: Range | null }>;
}

/** What answers at 127.0.0.1:port on the host (curl's body), or '' when nothing does. */
async function hostGet(host: string, port: number): Promise<string> {
  const got = await execa('curl', ['-s', '-m', '3', `http://${host}:${port}/`], { reject: false });
  return got.exitCode === 0 ? got.stdout : '';
}

/** The host's own addresses other than loopback (IPv4). */
function outerAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && a.family === 'IPv4' && !a.internal)
    .map((a) => a!.address);
}

describeWithDocker('ports per agent', () => {
  let fx: DevRootFixture;
  const run = (args: string[]) => devkit(args, { cwd: fx.workspace });
  const portsOf = async (): Promise<PortsJson['agents']> => (JSON.parse((await run(['ports', '--json'])).stdout) as PortsJson).agents;

  beforeAll(async () => {
    fx = await makeDevRoot();
    expect((await run(['worktrees', 'init', '3'])).exitCode).toBe(0);
    const ups = await Promise.all(['agent2', 'agent3'].map((profile) => run(['-q', '-p', profile, 'up'])));
    for (const up of ups) expect(up).toMatchObject({ exitCode: 0, stderr: '' });
  });
  afterAll(async () => {
    if (fx !== undefined) {
      await removeStacks(fx.root);
      fx.cleanup();
    }
  });

  it('agents 2 and 3 get distinct ranges, shown by ports, status and inside the container as DEVKIT_PORT and DEVKIT_PORTS', async () => {
    const agents = await portsOf();
    expect(agents.map((a) => [a.name, a.host])).toEqual([
      ['agent1', '127.0.0.1'],
      ['agent2', '127.0.0.1'],
      ['agent3', '127.0.0.1'],
    ]);
    // Agent 1 has never been up: it has no range yet.
    expect(agents[0]?.ports).toBeNull();
    const two = agents[1]?.ports as Range;
    const three = agents[2]?.ports as Range;
    for (const range of [two, three]) expect(range.last - range.first).toBe(4);
    expect(two.last < three.first || three.last < two.first).toBe(true);

    expect((await run(['ports', '2'])).stdout.split('\n')).toEqual(['AGENT   PORTS', `agent2  127.0.0.1:${two.first}-${two.last}`]);
    const status = JSON.parse((await run(['status', '--json'])).stdout) as { agents: Array<{ index: number; ports: Range | null }> };
    expect(status.agents.map((a) => [a.index, a.ports])).toEqual([
      [1, null],
      [2, two],
      [3, three],
    ]);
    expect((await run(['status'])).stdout).toMatch(new RegExp(`^agent3 .* ${three.first}-${three.last} `, 'm'));
    for (const [k, range] of [
      [2, two],
      [3, three],
    ] as const) {
      const env = await inAgentContainer(fx.workspace, k, 'echo "$DEVKIT_PORT $DEVKIT_PORTS"');
      expect(env.stdout).toBe(`${range.first} ${range.first}-${range.last}`);
    }
    // Every port is published on the host's loopback alone, under its own number.
    const forwarder = await profileContainers(fx.root, 'agent2', { service: 'ports' });
    const published = (await docker(['port', forwarder])).split('\n').sort();
    expect(published).toEqual(
      Array.from({ length: 5 }, (_, i) => `${two.first + i}/tcp -> 127.0.0.1:${two.first + i}`).sort((a, b) => a.localeCompare(b)),
    );
    // Stable: down and up again, the same range.
    expect((await run(['-q', '-p', 'agent3', 'down'])).exitCode).toBe(0);
    expect((await run(['-q', '-p', 'agent3', 'up'])).exitCode).toBe(0);
    expect((await portsOf())[2]?.ports).toEqual(three);
  });

  it('a server inside agent 2 on $DEVKIT_PORT answers on the host at 127.0.0.1:<that port>, and on no other address of the host', async () => {
    const port = (await portsOf())[1]?.ports?.first ?? 0;
    const token = `served-by-agent2-${process.pid}`;
    // The dev image's own tools: a shell loop over nc, left running in the container (its output nowhere, so the exec ends).
    const server = `while true; do printf 'HTTP/1.0 200 OK\\r\\n\\r\\n%s\\n' ${token} | nc -l -N "$DEVKIT_PORT"; done`;
    expect((await inAgentContainer(fx.workspace, 2, `(${server}) >/dev/null 2>&1 </dev/null & echo started`)).stdout).toBe('started');
    const answer = await pollUntil(async () => ((await hostGet('127.0.0.1', port)) === token ? token : undefined), {
      timeoutMs: 15_000,
      intervalMs: 200,
    });
    expect(answer).toBe(token);
    // Twice more: the forwarder serves one connection after another.
    expect(await hostGet('127.0.0.1', port)).toBe(token);
    expect(await hostGet('127.0.0.1', port)).toBe(token);
    for (const address of outerAddresses()) expect({ address, answer: await hostGet(address, port) }).toEqual({ address, answer: '' });
    // Agent 3's ports lead to agent 3's container, where nothing listens.
    const three = (await portsOf())[2]?.ports?.first ?? 0;
    expect(await hostGet('127.0.0.1', three)).toBe('');
  });

  it("a second dev root's agent gets a range apart from the first root's, past a port in use on 127.0.0.1", async () => {
    const other = await makeDevRoot();
    const AGENT = 2;
    // Where ports.ts looks first for the other root's agent 2 (a hash of root and index over 2,000 slots of 5 from 20000): taken here.
    const firstChoice = 20000 + (createHash('sha256').update(`${other.root}\0${AGENT}`).digest().readUInt32BE(0) % 2000) * 5;
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(firstChoice, '127.0.0.1', resolve));
    try {
      expect((await devkit(['worktrees', 'init', '2'], { cwd: other.workspace })).exitCode).toBe(0);
      expect(await devkit(['-q', '-p', 'agent2', 'up'], { cwd: other.workspace })).toMatchObject({ exitCode: 0, stderr: '' });
      const theirs = (JSON.parse((await devkit(['ports', '2', '--json'], { cwd: other.workspace })).stdout) as PortsJson).agents[0]?.ports;
      const ours = (await portsOf()).flatMap((a) => (a.ports === null ? [] : [a.ports]));
      expect(theirs).not.toBeNull();
      const range = theirs as Range;
      expect(firstChoice >= range.first && firstChoice <= range.last).toBe(false);
      for (const taken of ours)
        expect({ taken, apart: range.last < taken.first || taken.last < range.first }).toEqual({ taken, apart: true });
    } finally {
      squatter.close();
      await removeStacks(other.root);
      other.cleanup();
    }
  });

  it('ports for an unknown agent, or K that is not a number: one line on stderr, exit 2, nothing changed', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['ports', '99'], /K \(the agent index\) must be an integer from 1 to 64, got 99/],
      [['ports', '9'], /there is no agent 9 \(agents: 1, 2, 3\)/],
      [['ports', 'two', '--json'], /K \(the agent index\) must be an integer/],
    ];
    for (const [args, message] of cases) {
      const before = snapshot(fx.workspace);
      expectRefused(await run(args), message, { unchanged: { dir: fx.workspace, before }, json: args.includes('--json') });
    }
  });

  it('up refuses a forwarder in any other shape than devkit writes (compose.yml edited), and no container is made or changed', async () => {
    const composeFile = path.join(fx.workspace, 'compose.yml');
    const containers = () => docker(['ps', '-a', '--format', '{{.ID}} {{.CreatedAt}}', '--filter', `label=devkit.root=${fx.root}`]);
    const before = await containers();
    const original = readFileSync(composeFile, 'utf8');
    const forwarder = (settings: string) => original.replace('\nnetworks:\n', `  ports:\n${settings}\nnetworks:\n`);
    // compose.yml comes first: what it adds to the forwarder stays, what the overlay sets (image, user, command) wins.
    const edits: Array<[string, RegExp]> = [
      // Aimed elsewhere: `dev` named as an address outside, another program, or its environment.
      [forwarder('    extra_hosts: ["dev:192.0.2.1"]'), /ports sets extra_hosts, which the forwarder may not have/],
      [forwarder('    entrypoint: [sh, -c, "nc 192.0.2.1 80"]'), /ports has an entrypoint of its own/],
      [forwarder('    environment: { PERL5OPT: -d }'), /ports sets environment/],
      [forwarder('    volumes: ["/:/host"]'), /ports sets volumes/],
      [forwarder('    ports: ["0.0.0.0:29999:29999"]'), /ports publishes port 29999 on 0\.0\.0\.0/],
      [forwarder('    cap_add: [NET_ADMIN]'), /ports adds capabilities NET_ADMIN/],
      [
        original.replace(
          '    networks: [internal, outbound]\n',
          '    networks: [internal, outbound]\n    ports: ["127.0.0.1:8888:8888"]\n',
        ),
        /tinyproxy publishes ports/,
      ],
    ];
    try {
      for (const [text, problem] of edits) {
        writeFileSync(composeFile, text);
        const result = await run(['-p', 'agent3', 'up']);
        expectRefused(result, problem, { exitCode: 1 });
        expect(result.stderr).toMatch(/^devkit: the agent3 stack is not a sandbox/);
        expect(await containers()).toBe(before);
      }
    } finally {
      writeFileSync(composeFile, original);
    }
    expect((await run(['-p', 'agent3', 'up'])).exitCode).toBe(0);
  });
});
