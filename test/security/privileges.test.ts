import { execa } from 'execa';
import { statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithDocker, docker } from '../support/docker.js';
import { agentCopy } from '../support/sandbox.js';
import { makeArena, type Arena } from './attacker.js';

/** The container's default gateway as /proc/net/route has it: eight hex digits, least significant byte first. */
const GATEWAY = `awk 'NR>1 && $2=="00000000" {print $3}' /proc/net/route`;

function fromRouteHex(hex: string): string {
  return (hex.match(/../g) ?? [])
    .reverse()
    .map((byte) => Number.parseInt(byte, 16))
    .join('.');
}

/**
 * G4. A container has no more power than the host user, and never root on
 * the host (threat-model.md, attacks 5 and 10): capabilities dropped, no new
 * privileges, no agent as uid 0, no writable /etc/passwd; nothing on the host
 * or of another project answers a dev container.
 */
describeWithDocker('G4: a container has no more power than the host user', () => {
  let arena: Arena;
  let server: Server;
  let port: number;
  beforeAll(async () => {
    arena = await makeArena({ agents: 3, up: ['agent2', 'agent3', 'dev-all'] });
    // A service on the host, on every address (the test's own): no dev container may reach it.
    server = createServer((_req, res) => res.end('host service\n'));
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server?.close();
    await arena?.tearDown();
  });

  it('attack 5: a setuid copy of perl made inside never runs as root on the host; inside, no uid 0, no capabilities, no new privileges, no writable passwd', async () => {
    const inside = await arena.inAgent(
      2,
      "id -u; grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs)' /proc/self/status; test -w /etc/passwd && echo PASSWD-WRITABLE; " +
        'echo x | su -c id root 2>/dev/null && echo SU-WORKED; cp /usr/bin/perl /workspace/.p && chmod 4755 /workspace/.p && echo made',
    );
    const lines = inside.stdout.split('\n');
    expect(lines[0]).not.toBe('0');
    expect(lines).toEqual(
      expect.arrayContaining([
        'CapEff:\t0000000000000000',
        'CapPrm:\t0000000000000000',
        'CapBnd:\t0000000000000000',
        'NoNewPrivs:\t1',
        'made',
      ]),
    );
    expect(inside.stdout).not.toMatch(/PASSWD-WRITABLE|SU-WORKED/);
    const planted = path.join(agentCopy(arena.fx, 2), '.p');
    expect(statSync(planted).uid).not.toBe(0);
    // Any user on the host running it gets the agent's uid at most, never root.
    const ran = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', planted, '-e', 'print $>'], { reject: false });
    expect(ran.stdout).not.toBe('0');
    expect(ran.stdout).toBe(String(statSync(planted).uid));
    // The same holds in dev-all.
    expect((await arena.inDevAll(3, '.', 'id -u')).stdout).not.toBe('0');
  });

  it("attack 10: a host service on all addresses does not answer a dev container, by the internal network's gateway or docker0", async () => {
    expect((await execa('curl', ['-s', '-m', '3', `http://127.0.0.1:${port}/`])).stdout).toBe('host service');
    const routed = (await arena.inAgent(2, GATEWAY)).stdout.trim();
    const bridge = await docker(['network', 'inspect', 'bridge', '--format', '{{(index .IPAM.Config 0).Gateway}}']);
    const project = await docker([
      'ps',
      '--format',
      '{{.Label "com.docker.compose.project"}}',
      '--filter',
      `label=devkit.root=${arena.fx.root}`,
      '--filter',
      'label=devkit.profile=agent2',
      '--filter',
      'label=com.docker.compose.service=dev',
    ]);
    const subnet = await docker(['network', 'inspect', `${project}_internal`, '--format', '{{(index .IPAM.Config 0).Subnet}}']);
    const [a, b, c, d] = (subnet.split('/')[0] ?? '').split('.').map(Number);
    const gateway = `${a}.${b}.${c}.${(d ?? 0) + 1}`; // where the host would be on the internal network
    for (const address of new Set([gateway, bridge, ...(routed === '' ? [] : [fromRouteHex(routed)])])) {
      const tried = await arena.inAgent(2, `curl -s -m 3 --noproxy '*' http://${address}:${port}/ || echo unreachable`);
      expect({ address, answer: tried.stdout }).toEqual({ address, answer: 'unreachable' });
    }
  });

  it("nothing of another project answers: agent 2 reaches neither agent 3's containers nor dev-all's", async () => {
    const addresses = (
      await docker(['ps', '-q', '--filter', `label=devkit.root=${arena.fx.root}`, '--filter', 'label=devkit.profile=agent3'])
    ).split('\n');
    const ips: string[] = [];
    for (const id of [
      ...addresses,
      ...(await docker(['ps', '-q', '--filter', `label=devkit.root=${arena.fx.root}`, '--filter', 'label=devkit.profile=dev-all'])).split(
        '\n',
      ),
    ]) {
      ips.push(
        ...(await docker(['inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', id]))
          .split(' ')
          .filter(Boolean),
      );
    }
    expect(ips.length).toBeGreaterThanOrEqual(6);
    // Every address at once (the sidecars listen on 53 and 8888): one line each, ANSWERED or unreachable.
    const probes = ips
      .map((ip) => `((nc -z -w 2 ${ip} 53 || nc -z -w 2 ${ip} 8888) && echo "${ip} ANSWERED" || echo "${ip} unreachable") &`)
      .join(' ');
    const tried = await arena.inAgent(2, `${probes} wait`);
    expect(tried.stdout.split('\n').sort()).toEqual(ips.map((ip) => `${ip} unreachable`).sort());
  });
});
