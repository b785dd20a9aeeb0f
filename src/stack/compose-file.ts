import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { DevkitError, UsageError, oneLine } from '../errors.js';
import { isRecord } from '../json-object.js';

/** The parts of a compose file devkit writes and checks. */
export interface ComposeMount {
  type: 'bind' | 'volume';
  source: string;
  target: string;
  read_only?: boolean;
}

export interface ComposeService {
  image?: string;
  user?: string;
  working_dir?: string;
  environment?: Record<string, string>;
  labels?: Record<string, string>;
  volumes?: ComposeMount[];
}

export interface ComposeFile {
  name: string;
  services: Record<string, ComposeService>;
}

/** Parses an overlay devkit rendered and checks its shape; a mismatch is devkit's bug, said plainly. */
export function parseOverlay(text: string, where: string): ComposeFile {
  const fail = (what: string): never => {
    throw new DevkitError(`rendered ${where} is not a valid overlay: ${what}`);
  };
  const doc: unknown = parse(text);
  if (!isRecord(doc)) return fail('not a mapping');
  if (typeof doc.name !== 'string') return fail('no project name');
  if (!isRecord(doc.services)) return fail('no services');
  for (const [service, body] of Object.entries(doc.services)) {
    if (!isRecord(body)) return fail(`service ${service} is not a mapping`);
    for (const mount of (body.volumes as unknown[] | undefined) ?? []) {
      if (!isRecord(mount) || typeof mount.source !== 'string' || typeof mount.target !== 'string' || !mount.target.startsWith('/')) {
        fail(`service ${service} has a malformed mount`);
      }
      if (isRecord(mount) && mount.type === 'bind' && !String(mount.source).startsWith('/'))
        fail(`service ${service} binds a relative path`);
    }
  }
  return doc as unknown as ComposeFile;
}

/** Names of the external volumes compose.yml declares (the shared caches): devkit creates them, compose never deletes them. */
export function externalVolumes(file: string): string[] {
  let doc: { volumes?: Record<string, { name?: string; external?: boolean } | null> } | null;
  try {
    doc = parse(readFileSync(file, 'utf8')) as typeof doc;
  } catch (error) {
    throw new UsageError(`${file}: not valid YAML: ${oneLine((error as Error).message)}`);
  }
  if (doc === null || typeof doc !== 'object') throw new UsageError(`${file}: expected a mapping of compose settings (services, ...)`);
  return Object.entries(doc.volumes ?? {})
    .filter(([, spec]) => spec?.external === true)
    .map(([key, spec]) => spec?.name ?? key);
}
