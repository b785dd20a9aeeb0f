import { realpathSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from './errors.js';
import { isInside } from './fs/paths.js';

/** Profile and agent names (design.md: "Paths and names from the user"). */
export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;

/** The one pattern for agent names (profiles, folders, labels, records): agentK, K from 1 to 999. */
const AGENT_NAME = /^agent([1-9][0-9]{0,2})$/;

/** K for `agentK`, else null. */
export function parseAgentName(name: string): number | null {
  const match = AGENT_NAME.exec(name);
  return match?.[1] === undefined ? null : Number(match[1]);
}

/** Default upper bound for agent indexes; devkit.yml `maxAgents` changes it. */
export const DEFAULT_MAX_AGENTS = 64;

export function parseIndex(raw: string, options: { what: string; min?: number; max: number }): number {
  const min = options.min ?? 1;
  if (!/^[0-9]+$/.test(raw)) {
    throw new UsageError(`${options.what} must be an integer from ${min} to ${options.max}, got ${JSON.stringify(raw)}`);
  }
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > options.max) {
    throw new UsageError(
      `${options.what} must be an integer from ${min} to ${options.max}, got ${raw}` +
        (value > options.max ? ' (raise maxAgents in devkit.yml for more)' : ''),
    );
  }
  return value;
}

export function checkName(raw: string, what: string): string {
  if (!NAME_PATTERN.test(raw)) {
    throw new UsageError(
      `${what} ${JSON.stringify(raw)} is not a valid name: ` +
        "use lower-case letters, digits and '-', starting with a letter, at most 63 characters",
    );
  }
  return raw;
}

/** Repository folder names: a single path segment that git and compose accept. */
const REPO_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$/;

export function checkRepoName(raw: string): string {
  if (!REPO_NAME_PATTERN.test(raw) || raw.endsWith('.') || raw.endsWith('.lock')) {
    throw new UsageError(
      `repo name ${JSON.stringify(raw)} is not valid: one folder name of letters, digits, '.', '_' and '-' (not starting with '.' or '-')`,
    );
  }
  return raw;
}

export interface PathCheck {
  /** What the path is, for messages: "--root", "PATH". */
  label: string;
  /** Relative paths are resolved against this directory. */
  base: string;
  /** When set, the path must stay inside this directory after resolving `..` and symlinks. */
  within?: string;
}

/**
 * Refuses NUL bytes, UNC and Windows drive paths, and (with `within`) paths
 * that leave their root once `..` and symlinks are resolved. Returns the
 * absolute path with symlinks resolved as far as the path exists.
 */
export function checkPathArg(raw: string, check: PathCheck): string {
  if (raw.includes('\0')) throw new UsageError(`${check.label} contains a NUL byte`);
  if (raw === '') throw new UsageError(`${check.label} is empty`);
  if (/^(\\\\|\/\/)[^\\/]/.test(raw)) throw new UsageError(`${check.label} ${JSON.stringify(raw)} is a UNC path; give a local POSIX path`);
  if (/^[A-Za-z]:/.test(raw))
    throw new UsageError(`${check.label} ${JSON.stringify(raw)} is a Windows drive path; give a local POSIX path`);
  const resolved = resolveExisting(path.resolve(check.base, raw));
  if (check.within !== undefined) {
    const root = resolveExisting(path.resolve(check.within));
    if (!isInside(resolved, root)) {
      throw new UsageError(`${check.label} ${JSON.stringify(raw)} leaves ${root} (it resolves to ${resolved})`);
    }
  }
  return resolved;
}

/**
 * realpath for the longest prefix that exists, with the rest appended: a path
 * that does not exist yet still has its symlinked parents resolved.
 */
export function resolveExisting(absolute: string): string {
  const missing: string[] = [];
  let current = absolute;
  for (;;) {
    try {
      return path.join(realpathSync(current), ...missing.reverse());
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return absolute;
      missing.push(path.basename(current));
      current = parent;
    }
  }
}

/** A DNS host name: lower-case labels of letters, digits and inner '-', dot-separated, at most 253 characters. */
const HOST_NAME_PATTERN = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

export function checkHostName(raw: string, what: string): string {
  if (!HOST_NAME_PATTERN.test(raw)) {
    throw new UsageError(
      `${what} ${JSON.stringify(raw)} is not a host name: lower-case letters, digits, '-' and dots, like repo.example.org`,
    );
  }
  return raw;
}

/**
 * A domain for the egress allowlist: a host name of two or more labels, none
 * of them all digits (so `com`, `3` and IP literals in any notation are
 * refused: an allowlist entry must name one real domain and its subdomains).
 */
export function checkDomain(raw: string, what: string): string {
  checkHostName(raw, what);
  const labels = raw.split('.');
  if (labels.length < 2 || labels.some((label) => /^[0-9]+$/.test(label)) || /^0x[0-9a-f]+$/i.test(labels[0] ?? '')) {
    throw new UsageError(
      `${what} ${JSON.stringify(raw)} is not a domain: give a name of two or more labels, none of them all digits, like repo.example.org`,
    );
  }
  return raw;
}

/** An IPv4 address in dotted-quad form. */
export function checkIpv4(raw: string, what: string): string {
  const parts = raw.split('.');
  if (parts.length !== 4 || parts.some((part) => !/^(0|[1-9][0-9]{0,2})$/.test(part) || Number(part) > 255)) {
    throw new UsageError(`${what} ${JSON.stringify(raw)} is not an IPv4 address like 10.1.2.3`);
  }
  return raw;
}
