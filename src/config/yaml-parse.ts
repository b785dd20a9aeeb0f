import { parseDocument } from 'yaml';
import type { ParsedYaml } from './yaml-cache.js';

/** Parses YAML text (the first error, on one line, when it is not valid YAML). Loaded on demand: see yaml-cache.ts. */
export function parseYamlText(text: string): ParsedYaml {
  const doc = parseDocument(text, { prettyErrors: false });
  const firstError = doc.errors[0];
  return firstError === undefined
    ? { ok: true, value: doc.toJS() as unknown }
    : { ok: false, error: firstError.message.split('\n')[0] ?? '' };
}
