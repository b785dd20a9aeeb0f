import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

/**
 * A second Docker engine for tests of remote engines (scripts/second-engine.sh):
 * a dockerd in a network namespace of its own, reached over TCP only, with
 * its data in a folder of the temp folder, and a docker context naming it in
 * a docker config folder of its own (never the user's ~/.docker). destroy()
 * removes all of it: process, namespace, veth, folder and context.
 */
export interface SecondEngine {
  /** tcp://ADDR:2375 */
  host: string;
  /** The engine's address in its namespace. */
  address: string;
  /** The docker context naming it, in dockerConfig. */
  contextName: string;
  /** The DOCKER_CONFIG folder holding the context. */
  dockerConfig: string;
  /** The folder of its data, log and docker config. */
  dir: string;
  /** This process's environment choosing that engine as the docker CLI and devkit would: DOCKER_CONFIG and DOCKER_CONTEXT, no DOCKER_HOST. */
  env: Record<string, string>;
  /** Stops dockerd, keeping its data: start() brings the same engine back. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and removes everything it made. */
  destroy(): Promise<void>;
}

const SCRIPT = fileURLToPath(new URL('../../scripts/second-engine.sh', import.meta.url));

async function script(command: 'start' | 'stop' | 'destroy', dir: string): Promise<string> {
  const result = await execa(SCRIPT, [command, dir], { reject: false, stdin: 'ignore' });
  if (result.exitCode !== 0) throw new Error(`second-engine.sh ${command} failed (exit ${result.exitCode}): ${result.stderr}`);
  return result.stdout.trim();
}

/** The environment without what would choose an engine over the context (DOCKER_HOST and its TLS settings). */
function environmentFor(dockerConfig: string, contextName: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !['DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH'].includes(key)) env[key] = value;
  }
  return { ...env, DOCKER_CONFIG: dockerConfig, DOCKER_CONTEXT: contextName };
}

/** Starts a second engine (about 2 s; up to 90 s on a slow machine) and makes its docker context. */
export async function startSecondEngine(): Promise<SecondEngine> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'devkit-engine2-'));
  const destroy = (): Promise<string> => script('destroy', dir);
  try {
    const host = await script('start', dir);
    const address = new URL(host).hostname;
    const dockerConfig = path.join(dir, 'docker-config');
    mkdirSync(dockerConfig);
    const contextName = `devkit-engine2-${path.basename(dir).replace(/^devkit-engine2-/, '')}`;
    await execa('docker', ['context', 'create', contextName, '--docker', `host=${host}`], {
      env: { DOCKER_CONFIG: dockerConfig },
      stdin: 'ignore',
    });
    return {
      host,
      address,
      contextName,
      dockerConfig,
      dir,
      env: environmentFor(dockerConfig, contextName),
      stop: async () => {
        await script('stop', dir);
      },
      start: async () => {
        await script('start', dir);
      },
      destroy: async () => {
        await destroy();
      },
    };
  } catch (error) {
    await destroy().catch(() => rmSync(dir, { recursive: true, force: true }));
    throw error;
  }
}
