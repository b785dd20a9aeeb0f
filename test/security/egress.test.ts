import { execa } from 'execa';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithDocker, docker, profileContainers, removeStacks } from '../support/docker.js';
import { DNS_SERVER, HTTP_SERVER, connectSidecars, makeInternet, type Internet } from '../support/internet.js';
import { devkit, expectRefused, inAgentContainer, makeDevRoot, snapshot, type DevRootFixture } from '../support/sandbox.js';

/**
 * G5. Egress is default deny with no bypass (threat-model.md, attack 17): an
 * allowlist entry is a real domain name, and no private, loopback or
 * link-local address is reached through an allowed name (DNS rebinding)
 * unless devkit.yml names that address.
 */
/** Allowed names an upstream DNS server answers with addresses an allowed name must never lead to ('victim': a private service). */
const REBINDS: Array<[name: string, address: string]> = [
  ['rebind.devkit.test', 'victim'],
  ['loop.devkit.test', '127.0.0.1'],
  ['zero.devkit.test', '0.0.0.0'],
  ['cgnat.devkit.test', '100.64.1.1'], // shared address space (Tailscale and carrier NAT hosts live there)
  ['bench.devkit.test', '198.18.0.1'],
  ['protocol.devkit.test', '192.0.0.1'],
  ['mcast.devkit.test', '224.0.0.1'],
  ['reserved.devkit.test', '240.0.0.1'],
];

describeWithDocker('G5: egress is default deny with no bypass', () => {
  let fx: DevRootFixture;
  let internet: Internet;
  let victimAddress = '';
  const run = (args: string[]) => devkit(args, { cwd: fx.workspace });
  const inAgent = (script: string) => inAgentContainer(fx.workspace, 2, script);
  const config = () => path.join(fx.workspace, 'devkit.yml');

  beforeAll(async () => {
    fx = await makeDevRoot();
    internet = await makeInternet();
    // A service on a private network, and a DNS server (an attacker's, upstream) answering allowed names with private addresses.
    const victim = await internet.start(null, HTTP_SERVER('a private service', [80, 18080]));
    victimAddress = internet.address(victim);
    const dns = await internet.start(
      null,
      DNS_SERVER({ ...Object.fromEntries(REBINDS.map(([name, address]) => [name, address === 'victim' ? victimAddress : address])) }),
    );
    appendFileSync(config(), `egress:\n  allow: [${REBINDS.map(([name]) => name).join(', ')}]\n  resolvers: [${internet.address(dns)}]\n`);
    expect((await run(['worktrees', 'init', '2'])).exitCode).toBe(0);
    expect((await run(['-p', 'agent2', 'up'])).exitCode).toBe(0);
    // The proxy can route to the private service: only the rebinding protection stands in the way.
    await connectSidecars(fx.root, 'agent2', internet.network.getName());
  });
  afterAll(async () => {
    if (fx !== undefined) {
      await removeStacks(fx.root);
      fx.cleanup();
    }
    await internet?.stop();
  });

  it('attack 17: policy allow of a top-level domain, a number or an IP literal is exit 2, one line, nothing changed', async () => {
    for (const host of ['com', '3', '10.0.0.1', '0x7f.1', 'github']) {
      const before = snapshot(fx.workspace);
      expectRefused(await run(['policy', 'allow', host]), new RegExp(`HOST "${host.replace('.', '\\.')}" is not a domain`), {
        unchanged: { dir: fx.workspace, before },
      });
    }
    // The same entries written into devkit.yml by hand are refused when it is read.
    const text = readFileSync(config(), 'utf8');
    writeFileSync(config(), text.replace('allow: [rebind.devkit.test', 'allow: [com, rebind.devkit.test'));
    expectRefused(await run(['policy', 'show']), /'egress\.allow' entry "com" is not a domain/);
    writeFileSync(config(), text);
  });

  it('an allowed name answered with a private, loopback, shared, benchmark, multicast or reserved address (DNS rebinding) reaches nothing', async () => {
    for (const [name] of REBINDS) {
      const tried = await inAgent(
        `curl -s -m 5 -o /dev/null -w '%{http_code}' http://${name}/; echo; getent hosts ${name} || echo unresolved`,
      );
      expect({ name, answer: tried.stdout }).toEqual({ name, answer: expect.stringMatching(/^(000|5\d\d)\nunresolved$/) });
    }
    const dns = await profileContainers(fx.root, 'agent2', { service: 'dns' });
    expect((await execa('docker', ['logs', dns], { all: true })).all).toMatch(/possible DNS-rebind attack detected: rebind\.devkit\.test/);
  });

  it('unless devkit.yml names that address for the name (egress.hosts): then it answers, over plain HTTP on port 80 only', async () => {
    const text = readFileSync(config(), 'utf8');
    try {
      writeFileSync(config(), `${text}  hosts: { rebind.devkit.test: ${victimAddress} }\n`);
      expect((await run(['-p', 'agent2', 'up'])).exitCode).toBe(0);
      const tried = await inAgent('curl -s -m 5 http://rebind.devkit.test/');
      expect(tried.stdout).toBe('hello from a private service');
      // The same name on a port off the list (egress.ports is 443): refused, by plain HTTP as by CONNECT.
      const otherPort = await inAgent(
        "curl -s -m 5 -o /dev/null -w '%{http_code} ' http://rebind.devkit.test:18080/; " +
          "curl -s -m 5 -p -o /dev/null -w '%{http_connect}' http://rebind.devkit.test:18080/",
      );
      expect(otherPort.stdout).toBe('403 403');
    } finally {
      writeFileSync(config(), text);
      expect((await run(['-p', 'agent2', 'up'])).exitCode).toBe(0);
    }
  });

  it('the port forwarder is no way out: beside a server it reaches, dev reaches neither the server nor anything through the forwarder', async () => {
    // The forwarder joins the network of the private service, and can reach it itself: a leak would show.
    await connectSidecars(fx.root, 'agent2', internet.network.getName(), ['ports']);
    const forwarder = await profileContainers(fx.root, 'agent2', { service: 'ports' });
    expect(await docker(['exec', forwarder, 'curl', '-s', '-m', '5', `http://${victimAddress}/`])).toBe('hello from a private service');
    // dev itself stays on its internal network alone.
    const dev = await profileContainers(fx.root, 'agent2', { service: 'dev' });
    const networks = await docker(['inspect', '--format', '{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}', dev]);
    expect(networks).toMatch(/^\S+-agent2_internal$/);
    const tried = await inAgent(
      `curl -s -m 5 --noproxy '*' http://${victimAddress}/ || echo unreachable; ` +
        `curl -s -m 5 --noproxy '*' http://ports:$DEVKIT_PORT/ || echo nothing; ` +
        `curl -s -m 5 --noproxy '*' -x http://ports:$DEVKIT_PORT http://${victimAddress}/ || echo refused`,
    );
    expect(tried.stdout.split('\n')).toEqual(['unreachable', 'nothing', 'refused']);
  });
});
