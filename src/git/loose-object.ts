import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { writeFileAtomic } from '../fs/atomic.js';
import { OBJECT_ID } from './refs.js';

/**
 * Commit objects written by devkit itself into an object store it owns, as
 * `git commit-tree` would write them (the same bytes, so the same id), for
 * a fraction of a git process each: the conflict radar makes one per dirty
 * agent and per step of a merge order. An object is `<type> <size>\0<body>`,
 * named by its hash (SHA-1, or SHA-256 in a repository of that format) and
 * stored zlib-deflated at objects/<first 2 hex digits>/<the rest>.
 */

export interface CommitFields {
  tree: string;
  parents: readonly string[];
  /** `Name <email> <seconds> <zone>`, author and committer both. */
  identity: string;
  /** The message; a newline is put after it, as commit-tree -m does. */
  message: string;
}

/** The body of a commit object with these fields. */
export function commitBody(fields: CommitFields): string {
  for (const id of [fields.tree, ...fields.parents]) if (!OBJECT_ID.test(id)) throw new Error(`not an object id: ${JSON.stringify(id)}`);
  if (fields.identity.includes('\n')) throw new Error(`not a commit identity: ${JSON.stringify(fields.identity)}`);
  // As commit-tree: a parent named twice is one parent.
  const parents = [...new Set(fields.parents)].map((parent) => `parent ${parent}\n`).join('');
  return `tree ${fields.tree}\n${parents}author ${fields.identity}\ncommitter ${fields.identity}\n\n${fields.message}\n`;
}

/**
 * Writes a commit into `objectsDir` (a store of devkit's, in format `format`)
 * and returns its id. Written whole or not at all (temp file and rename); an
 * object already there is left alone: its name is its content's hash.
 */
export function writeCommit(objectsDir: string, format: 'sha1' | 'sha256', fields: CommitFields): string {
  const body = Buffer.from(commitBody(fields), 'utf8');
  const object = Buffer.concat([Buffer.from(`commit ${body.length}\0`), body]);
  const id = createHash(format === 'sha256' ? 'sha256' : 'sha1')
    .update(object)
    .digest('hex');
  const dir = path.join(objectsDir, id.slice(0, 2));
  const file = path.join(dir, id.slice(2));
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(file, deflateSync(object), { mode: 0o444 });
  }
  return id;
}
