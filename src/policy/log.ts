import type { EngineApi } from '../docker/engine-api.js';

/**
 * What the proxies refused, read from their logs (policy log, status). Kept
 * apart from the policy files' rendering: status loads this on every call.
 */
/** One request the proxy refused. */
export interface Denial {
  profile: string;
  time: string;
  /** The refused host name (with its port when not 80 or 443), or `port N` for a CONNECT to a port off the list. */
  target: string;
  reason: 'domain' | 'port';
}

/** The host a refused URL names (`http://host:port/path`, or CONNECT's `host:port`), with its port unless it is 80 or 443. */
function refusedTarget(url: string): string {
  const found = /^(?:[a-z]+:\/\/)?([^/?#:]+)(?::(\d+))?/i.exec(url);
  const host = found?.[1] ?? url;
  const port = found?.[2];
  return port === undefined || port === '80' || port === '443' ? host : `${host}:${port}`;
}

// tinyproxy's words: NOTICE    Nov 21 19:56:33.145 [1]: Proxying refused on filtered url "http://beta.test/" (or domain "beta.test")
const DENIAL_PATTERNS: Array<[RegExp, Denial['reason'], (found: string) => string]> = [
  [/^\w+\s+(\w{3} +\d+ [\d:.]+) \[\d+\]: Proxying refused on filtered (?:domain|url) "([^"]+)"/, 'domain', refusedTarget],
  [/^\w+\s+(\w{3} +\d+ [\d:.]+) \[\d+\]: Refused CONNECT method on port (\d+)/, 'port', (port) => `port ${port}`],
];

export function parseDenials(profile: string, log: string): Denial[] {
  const denials: Denial[] = [];
  for (const line of log.split('\n')) {
    for (const [pattern, reason, target] of DENIAL_PATTERNS) {
      const match = pattern.exec(line);
      if (match?.[1] !== undefined && match[2] !== undefined) denials.push({ profile, time: match[1], target: target(match[2]), reason });
    }
  }
  return denials;
}

/** The proxy denials of this root's profiles (one profile's, when given), oldest first, from the proxies' logs. */
export async function recentDenials(api: EngineApi, root: string, profile: string | undefined, tail = 2000): Promise<Denial[]> {
  const labels = [
    `devkit.root=${root}`,
    'com.docker.compose.service=tinyproxy',
    ...(profile === undefined ? [] : [`devkit.profile=${profile}`]),
  ];
  const proxies = await api.listContainers(labels);
  const denials: Denial[] = [];
  for (const proxy of proxies) denials.push(...parseDenials(proxy.Labels['devkit.profile'] ?? '', await api.containerLogs(proxy.Id, tail)));
  return denials;
}
