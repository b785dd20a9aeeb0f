import { readFileSync } from 'node:fs';
import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import { writeFileAtomic } from '../fs/atomic.js';
import type { DevkitConfig } from '../config/config.js';
import { DevkitError } from '../errors.js';
import { agentEgressOf, globalDomains, policyFor, presetDomains } from './policy.js';

/** One allow or deny of a domain or a CONNECT port, for every agent or for one (`agentK`). */
export type PolicyChange =
  | { kind: 'domain'; action: 'allow' | 'deny'; host: string; agent: string | null }
  | { kind: 'port'; action: 'allow' | 'deny'; port: number; agent: string | null };

/**
 * One level of the policy for one kind of item: what it inherits (presets for
 * the global domains, the global policy for an agent), its own list, and its
 * deny list (null: nothing to inherit, so nothing to deny).
 */
interface Layer<T> {
  inherited: ReadonlySet<T>;
  own: { path: string[]; items: readonly T[] };
  denied: { path: string[]; items: readonly T[] } | null;
}

/** A list in devkit.yml to set, by its key path. */
interface Edit {
  path: string[];
  items: Array<string | number>;
}

function layerFor(config: DevkitConfig, change: PolicyChange): Layer<string> | Layer<number> {
  const { egress } = config;
  if (change.agent === null) {
    if (change.kind === 'port')
      return { inherited: new Set<number>(), own: { path: ['egress', 'ports'], items: egress.ports }, denied: null };
    return {
      inherited: new Set(presetDomains(egress)),
      own: { path: ['egress', 'allow'], items: egress.allow },
      denied: { path: ['egress', 'deny'], items: egress.deny },
    };
  }
  const own = agentEgressOf(egress, change.agent);
  const at = (key: string): string[] => ['egress', 'agents', change.agent ?? '', key];
  if (change.kind === 'port')
    return {
      inherited: new Set(egress.ports),
      own: { path: at('ports'), items: own.ports },
      denied: { path: at('denyPorts'), items: own.denyPorts },
    };
  return {
    inherited: new Set(globalDomains(egress)),
    own: { path: at('allow'), items: own.allow },
    denied: { path: at('deny'), items: own.deny },
  };
}

/**
 * The lists to set so that `item` is allowed (or denied) at this layer; null
 * when it already is. Allowing takes it off the deny list, and onto the own
 * list unless inherited; denying takes it off the own list, and onto the deny
 * list when inherited.
 */
function plan<T extends string | number>(layer: Layer<T>, action: 'allow' | 'deny', item: T): Edit[] | null {
  const denied = layer.denied?.items.includes(item) ?? false;
  const listed = layer.inherited.has(item) || layer.own.items.includes(item);
  const without = (items: readonly T[]): T[] => items.filter((each) => each !== item);
  if (action === 'allow') {
    if (listed && !denied) return null;
    return [
      ...(denied && layer.denied !== null ? [{ path: layer.denied.path, items: without(layer.denied.items) }] : []),
      ...(listed ? [] : [{ path: layer.own.path, items: [...layer.own.items, item] }]),
    ];
  }
  if (!listed || denied) return null;
  return [
    ...(layer.own.items.includes(item) ? [{ path: layer.own.path, items: without(layer.own.items) }] : []),
    ...(layer.inherited.has(item) && layer.denied !== null ? [{ path: layer.denied.path, items: [...layer.denied.items, item] }] : []),
  ];
}

/** A domain reached only through an entry above it cannot be denied alone: each entry allows all its subdomains. */
function checkNotCoveredOnly(config: DevkitConfig, change: PolicyChange): void {
  if (change.kind !== 'domain' || change.action !== 'deny') return;
  const effective = change.agent === null ? globalDomains(config.egress) : policyFor(config, change.agent).allow;
  if (effective.includes(change.host)) return;
  const parent = effective.find((domain) => change.host.endsWith(`.${domain}`));
  if (parent !== undefined)
    throw new DevkitError(
      `${change.host} is allowed through ${parent} (an entry allows all its subdomains), and cannot be denied alone: ` +
        `deny ${parent}${change.agent === null ? '' : ` --agent ${change.agent.replace(/^agent/, '')}`}`,
    );
}

/** Deletes the key at `keyPath`, and the mappings above it it leaves empty (an agent with no changes of its own goes). */
function deleteEmptying(doc: Document, keyPath: readonly string[]): void {
  doc.deleteIn(keyPath);
  for (let parent = keyPath.slice(0, -1); parent.length > 1; parent = parent.slice(0, -1)) {
    const node = doc.getIn(parent);
    if (!isMap(node) || node.items.length > 0) return;
    doc.deleteIn(parent);
  }
}

/**
 * Applies one change to devkit.yml, keeping its comments and layout, and
 * writing `egress.presets` out when it was implied (so the file reads the
 * same afterwards). Returns false when nothing had to change.
 */
export function editPolicy(configPath: string | null, config: DevkitConfig, change: PolicyChange): boolean {
  if (configPath === null)
    throw new DevkitError(
      'policy changes are written to devkit.yml, and this workspace has none (DEVKIT_ROOT/DEVKIT_REPO only): run devkit init',
    );
  checkNotCoveredOnly(config, change);
  const layer = layerFor(config, change);
  const edits =
    change.kind === 'port'
      ? plan(layer as Layer<number>, change.action, change.port)
      : plan(layer as Layer<string>, change.action, change.host);
  if (edits === null) return false;
  const doc = parseDocument(readFileSync(configPath, 'utf8'));
  if (!doc.hasIn(['egress', 'presets'])) edits.unshift({ path: ['egress', 'presets'], items: [...config.egress.presets] });
  for (const edit of edits) {
    // An empty deny list goes; an empty allow or ports list stays (without it the default would come back).
    if (edit.items.length === 0 && /^deny/.test(edit.path.at(-1) ?? '')) {
      deleteEmptying(doc, edit.path);
      continue;
    }
    doc.setIn(edit.path, doc.createNode(edit.items, { flow: false }));
    const list = doc.getIn(edit.path);
    if (isSeq(list)) list.flow = edit.path.at(-1) === 'presets' || edit.path.at(-1) === 'ports';
  }
  writeFileAtomic(configPath, doc.toString());
  return true;
}
