/**
 * Reading an agent's refs as data: devkit parses the files itself instead of
 * running git in a repository whose config and hooks the agent owns. Only what
 * git itself could have written is accepted.
 */

/** An object id: SHA-1 (40 hex digits) or SHA-256 (64). */
export const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** A ref name as `git check-ref-format` accepts it, more strictly: plain characters only. */
export function isValidRefName(name: string): boolean {
  if (!/^refs\/[A-Za-z0-9._/+-]+$/.test(name) || name.length > 1024) return false;
  return (
    name.split('/').every((part) => part !== '' && !part.startsWith('.') && !part.endsWith('.lock') && !part.endsWith('.')) &&
    !name.includes('..')
  );
}

/** What HEAD holds: the branch it names, or the commit it is detached at. */
export type HeadRef = { kind: 'branch'; ref: string } | { kind: 'detached'; commit: string };

export function parseHead(text: string): HeadRef | null {
  const line = text.trim();
  if (line.startsWith('ref: ')) {
    const ref = line.slice(5).trim();
    return isValidRefName(ref) ? { kind: 'branch', ref } : null;
  }
  return OBJECT_ID.test(line) ? { kind: 'detached', commit: line } : null;
}

/** A loose ref file's content: an object id (a symbolic loose ref is refused). */
export function parseLooseRef(text: string): string | null {
  const line = text.trim();
  return OBJECT_ID.test(line) ? line : null;
}

/** `packed-refs`: ref name to object id; peeled lines (^...) and the header are skipped, bad lines dropped. */
export function parsePackedRefs(text: string): Map<string, string> {
  const refs = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('^')) continue;
    const [id, name, ...rest] = line.split(' ');
    if (id !== undefined && name !== undefined && rest.length === 0 && OBJECT_ID.test(id) && isValidRefName(name)) refs.set(name, id);
  }
  return refs;
}
