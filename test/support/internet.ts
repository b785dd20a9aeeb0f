import { GenericContainer, Network, Wait, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import { docker, profileContainers } from './docker.js';

/**
 * The tests' own stand-in for the internet: containers on a network the test
 * makes (an HTTP site, an sshd git server, a DNS server), through
 * testcontainers with a local image and Ryuk off (no image can be pulled
 * here). Each suite stops what it started in its own teardown.
 */
export interface Internet {
  network: StartedNetwork;
  containers: StartedTestContainer[];
  /** Starts a container of the base image on the network, ready once it prints `ready`. */
  start(alias: string | null, script: string): Promise<StartedTestContainer>;
  /** The container's address on the network. */
  address(container: StartedTestContainer): string;
  stop(): Promise<void>;
}

export async function makeInternet(): Promise<Internet> {
  const network = await new Network().start();
  const containers: StartedTestContainer[] = [];
  return {
    network,
    containers,
    async start(alias, script) {
      let container = new GenericContainer('devkit/base:bookworm')
        .withNetwork(network)
        .withLabels({ 'devkit.test': 'internet' })
        .withCommand(['sh', '-c', script])
        .withWaitStrategy(Wait.forLogMessage(/^ready$/m));
      if (alias !== null) container = container.withNetworkAliases(alias);
      const started = await container.start();
      containers.push(started);
      return started;
    },
    address: (container) => container.getIpAddress(network.getName()),
    async stop() {
      await Promise.all(containers.map((c) => c.stop({ remove: true, removeVolumes: true, timeout: 1 })));
      await network.stop();
    },
  };
}

/** An HTTP server answering `hello from NAME` on port 80 (and the other ports given). */
export const HTTP_SERVER = (name: string, ports: readonly number[] = [80]): string =>
  [
    ...ports.map((port) => `(while true; do printf 'HTTP/1.0 200 OK\\r\\n\\r\\nhello from ${name}\\n' | nc -l -N ${port}; done) &`),
    'echo ready',
    'wait',
  ].join('\n');

/** An sshd serving a bare repo /srv/git/app.git to user git (keys appended to its authorized_keys). */
export const GIT_SERVER = [
  'ssh-keygen -A >/dev/null',
  'mkdir -p /run/sshd',
  'useradd -m -s /bin/sh git',
  'mkdir -p /home/git/.ssh && touch /home/git/.ssh/authorized_keys',
  'git init -q --bare /srv/git/app.git',
  'chown -R git:git /home/git /srv/git && chmod 700 /home/git/.ssh',
  'echo ready',
  'exec /usr/sbin/sshd -D -e',
].join(' && ');

/**
 * A DNS server answering each name with its address, and everything else from Docker's resolver; with
 * `forward: false`, NXDOMAIN for everything else (on an engine with no way out, where Docker's resolver would wait).
 */
export const DNS_SERVER = (answers: Record<string, string>, options: { forward?: boolean } = {}): string =>
  [
    `echo ready`,
    `exec dnsmasq --keep-in-foreground --log-facility=- --user=root --group=root --no-resolv --no-hosts ${
      options.forward === false ? '--address=/#/' : '--server=127.0.0.11'
    } ${Object.entries(answers)
      .map(([name, address]) => `--address=/${name}/${address}`)
      .join(' ')}`,
  ].join('; ');

/** Joins a profile's proxy and dns sidecars (never its dev container) to a network of the test's. */
export async function connectSidecars(
  root: string,
  profile: string,
  network: string,
  services: readonly string[] = ['tinyproxy', 'dns'],
): Promise<void> {
  for (const service of services) {
    const id = await profileContainers(root, profile, { service });
    await docker(['network', 'connect', network, id]);
  }
}
