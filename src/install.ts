import { fileURLToPath } from 'node:url';

/** The folder devkit is installed in (templates/ and dist/ sit in it). Light: every command loads it. */
export function devkitInstallDir(): string {
  return fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
}

/** A file of the templates/ folder shipped beside dist/ (people may read and change them). */
export function templatePath(name: string): string {
  return fileURLToPath(new URL(`../templates/${name}`, import.meta.url));
}
