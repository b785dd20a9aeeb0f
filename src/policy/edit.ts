import { readFileSync } from 'node:fs';
import { isSeq, parseDocument } from 'yaml';
import { writeFileAtomic } from '../fs/atomic.js';
import type { DevkitConfig } from '../config/config.js';
import { DevkitError } from '../errors.js';

export type PolicyChange = { action: 'allow' | 'deny'; host: string; agent: string | null };

/**
 * Applies one allow or deny to devkit.yml, keeping its comments and layout.
 * The global list starts from the defaults in force when devkit.yml has none.
 * Returns false when the host already was (or was not) on the list.
 */
export function editPolicy(configPath: string | null, config: DevkitConfig, change: PolicyChange): boolean {
  if (configPath === null)
    throw new DevkitError(
      'policy changes are written to devkit.yml, and this workspace has none (DEVKIT_ROOT/DEVKIT_REPO only): run devkit init',
    );
  const doc = parseDocument(readFileSync(configPath, 'utf8'));
  const keyPath = change.agent === null ? ['egress', 'allow'] : ['egress', 'agents', change.agent, 'allow'];
  const current = change.agent === null ? config.egress.allow : (config.egress.agents[change.agent]?.allow ?? []);
  const has = current.includes(change.host);
  if ((change.action === 'allow') === has) return false;
  const next = change.action === 'allow' ? [...current, change.host] : current.filter((host) => host !== change.host);
  doc.setIn(keyPath, doc.createNode(next, { flow: false }));
  const list = doc.getIn(keyPath);
  if (isSeq(list)) list.flow = false;
  writeFileAtomic(configPath, doc.toString());
  return true;
}
