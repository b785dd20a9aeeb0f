import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DevkitError } from '../errors.js';
import { isRecord } from '../json-object.js';

/** The docker CLI's config folder: $DOCKER_CONFIG, else ~/.docker. */
export function dockerConfigDir(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), '.docker');
}

/** A file's text; null when it cannot be read (missing, most often). */
export function readOptional(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** The docker CLI's config.json, parsed; null when there is none. Not JSON is one line saying so. */
export function readDockerConfig(env: NodeJS.ProcessEnv): Record<string, unknown> | null {
  const file = path.join(dockerConfigDir(env), 'config.json');
  const text = readOptional(file);
  if (text === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DevkitError(`${file} is not JSON: fix it as the docker CLI would need to`);
  }
  return isRecord(parsed) ? parsed : {};
}
