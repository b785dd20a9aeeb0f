import { createHash } from 'node:crypto';
import { closeSync, createReadStream, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { DEFAULT_BASE_IMAGE } from '../config/config.js';
import { debugError } from '../debug.js';
import { DevkitError, oneLine } from '../errors.js';
import type { Io } from '../cli/io.js';
import { followLines, startProgress } from '../cli/progress.js';
import { templatePath } from '../install.js';
import type { EngineApi } from './engine-api.js';

/** What the bootstrapped base holds: everything the dev, proxy, dns and test images need. */
const BASE_PACKAGES = [
  'bash',
  'git',
  'openssh-client',
  'openssh-server',
  'netcat-openbsd',
  'tmux',
  'curl',
  'ca-certificates',
  'tinyproxy',
  'dnsmasq-base',
  'procps',
  'less',
];

/** How the default base is bootstrapped. Its hash labels the image, so a devkit whose recipe changed makes it again. */
export const BASE_RECIPE = { suite: 'bookworm', variant: 'minbase', packages: BASE_PACKAGES };
const BASE_RECIPE_LABEL = 'devkit.base-recipe';
export const BASE_RECIPE_HASH = createHash('sha256').update(JSON.stringify(BASE_RECIPE)).digest('hex').slice(0, 32);

/** The images the stack runs, built from templates/images/<name>/ on top of the base. */
export const STACK_IMAGES = [
  { name: 'dev', tag: 'devkit/dev:local' },
  { name: 'proxy', tag: 'devkit/proxy:local' },
  { name: 'dns', tag: 'devkit/dns:local' },
  { name: 'ports', tag: 'devkit/ports:local' },
] as const;

const HASH_LABEL = 'devkit.context-hash';

export interface BuiltImage {
  name: string;
  tag: string;
  id: string;
  /** False when the image was already up to date. */
  built: boolean;
}

/** dockerode on the engine `api` talks to, loaded only when an image must be built, imported or pulled (it is slow to load). */
async function dockerode(api: EngineApi): Promise<Docker> {
  const { default: Dockerode } = await import('dockerode');
  const endpoint = api.endpoint;
  switch (endpoint.kind) {
    case 'unix':
      return new Dockerode({ socketPath: endpoint.path });
    case 'tcp': {
      const tls = endpoint.tls;
      if (tls === null) return new Dockerode({ protocol: 'http', host: endpoint.host, port: endpoint.port });
      return new Dockerode({
        protocol: 'https',
        host: endpoint.host,
        port: endpoint.port,
        ...(tls.ca === null ? {} : { ca: tls.ca }),
        ...(tls.cert === null ? {} : { cert: tls.cert }),
        ...(tls.key === null ? {} : { key: tls.key }),
      });
    }
    case 'ssh':
      return new Dockerode({
        protocol: 'ssh',
        host: endpoint.host,
        ...(endpoint.port === null ? {} : { port: endpoint.port }),
        ...(endpoint.user === null ? {} : { username: endpoint.user }),
      });
  }
}

/** The Debian mirror the machine's apt uses (never a hard-coded host). */
export function debianMirror(): string {
  for (const file of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      debugError(`reading ${file}`, error);
      continue;
    }
    const uri = /^URIs:\s*(\S+)/m.exec(text)?.[1] ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/m.exec(text)?.[1];
    if (uri !== undefined) return uri;
  }
  throw new DevkitError('no Debian mirror found in /etc/apt: set baseImage in devkit.yml to an image you have');
}

/** One message of the engine's JSON stream for a build, an import, a push or a pull. */
export interface ImageStreamEvent {
  stream?: string;
  status?: string;
  /** The layer a push or pull message is about. */
  id?: string;
  progressDetail?: { current?: number; total?: number };
}

/** Follows a dockerode progress stream to its end; an error event rejects. */
function follow(docker: Docker, stream: NodeJS.ReadableStream, onEvent: (event: ImageStreamEvent) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null, events: Array<{ error?: string }>) => {
        const failed = error?.message ?? events.find((event) => event.error !== undefined)?.error;
        if (failed === undefined) resolve();
        else reject(new DevkitError(`docker: ${failed}`));
      },
      onEvent,
    );
  });
}

/** Follows the engine's JSON stream of a push or pull made on `api` (EngineApi.pushImage, pullImage); its error rejects. */
export async function followImageStream(
  api: EngineApi,
  stream: NodeJS.ReadableStream,
  onEvent: (event: ImageStreamEvent) => void,
): Promise<void> {
  return follow(await dockerode(api), stream, onEvent);
}

/** Where the bootstrap's root filesystem and its tar are made: they are large (DEVKIT_BOOTSTRAP_DIR may point to a roomier disk). */
export function scratchRoot(env: NodeJS.ProcessEnv): string {
  return env.DEVKIT_BOOTSTRAP_DIR ?? os.tmpdir();
}

/** debootstrap a minimal Debian by BASE_RECIPE and import it as the base image, labelled with the recipe's hash. */
async function bootstrapBase(tag: string, api: EngineApi, io: Io, env: NodeJS.ProcessEnv): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new DevkitError(`building ${tag} needs debootstrap as root: run devkit image build as root once, or set baseImage in devkit.yml`);
  }
  const progress = startProgress(io, `bootstrapping ${tag} (debootstrap, about a minute)`);
  const dir = mkdtempSync(path.join(scratchRoot(env), 'devkit-base-'));
  try {
    const { suite, variant, packages } = BASE_RECIPE;
    const child = execa('debootstrap', [`--variant=${variant}`, `--include=${packages.join(',')}`, suite, dir, debianMirror()], {
      all: true,
      reject: false,
    });
    const tail = followLines(child.all, progress, 3);
    const result = await child;
    if (result.exitCode !== 0) {
      throw new DevkitError(`debootstrap failed (exit ${result.exitCode}): ${tail.join(' | ')}`);
    }
    progress.done('done');
    await importRootfs(dir, tag, { [BASE_RECIPE_LABEL]: BASE_RECIPE_HASH }, { api, io, scratchRoot: scratchRoot(env) });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes the tar of a root filesystem folder to a file: the import's source, which a test may swap for a bad one. */
export type TarWriter = (dir: string, file: string) => Promise<void>;

/** The tar of dir, written to file by GNU tar. */
export async function writeRootfsTar(dir: string, file: string): Promise<void> {
  const result = await execa('tar', ['-C', dir, '-cf', file, '.'], { reject: false });
  if (result.exitCode !== 0) throw new Error(`tar -c exited ${result.exitCode}: ${oneLine(result.stderr)}`);
}

/** Whether a tar file ends as tar ends every archive: in whole 512-byte blocks, the last two of them zeros. */
function endsAsTar(file: string): boolean {
  const size = statSync(file).size;
  if (size < 1024 || size % 512 !== 0) return false;
  const tail = Buffer.alloc(1024);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, tail, 0, tail.length, size - tail.length);
  } finally {
    closeSync(fd);
  }
  return tail.every((byte) => byte === 0);
}

/**
 * Why a tar file is unreadable, in GNU tar's words where it has them; null when it reads to its end. The engine
 * alone is not enough: it takes a tar cut short after a member's data or at a member's edge without a word, and
 * makes an image of what it got; tar -tf passes the second, so the end-of-archive blocks are checked too.
 */
async function tarProblem(file: string): Promise<string | null> {
  const listed = await execa('tar', ['-tf', file], { stdout: 'ignore', reject: false });
  if (listed.exitCode !== 0) return `tar -tf found the tar broken: ${oneLine(listed.stderr) || `exit ${listed.exitCode}`}`;
  if (!endsAsTar(file)) return 'the tar has no end-of-archive blocks: it was cut short';
  return null;
}

/** The engine's own words in a dockerode error, without dockerode's "(HTTP code 500) server error - " before them. */
function engineMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return oneLine(message.replace(/^\(HTTP code \d+\)[^-]*- /, '').replace(/^docker: /, ''));
}

/** Imports a tar file as tag, with labels; resolves to the image id the engine reported, if it did. */
async function importTarFile(api: EngineApi, file: string, tag: string, labels: Record<string, string>): Promise<string | undefined> {
  const docker = await dockerode(api);
  const [repo, version] = tag.split(':');
  const changes = Object.entries(labels).map(([key, value]) => `LABEL ${key}=${JSON.stringify(value)}`);
  let id: string | undefined;
  try {
    const stream = await docker.importImage(createReadStream(file), { repo, tag: version ?? 'latest', changes });
    await follow(docker, stream, (event) => {
      if (event.status?.startsWith('sha256:')) id = event.status;
    });
  } catch (error) {
    throw new Error(`the engine said: ${engineMessage(error)}`, { cause: error });
  }
  return id;
}

/** Checks that tag names the image the engine reported, with every label asked for. */
async function checkImported(api: EngineApi, tag: string, id: string | undefined, labels: Record<string, string>): Promise<void> {
  const made = await api.inspectImage(tag);
  if (made === null) throw new Error(`the engine reported success but ${tag} is missing`);
  if (id !== undefined && made.id !== id) throw new Error(`${tag} is ${made.id}, not the image just imported (${id})`);
  const missing = Object.entries(labels).filter(([key, value]) => made.labels[key] !== value);
  if (missing.length > 0) throw new Error(`${tag} lacks the label ${missing.map(([key, value]) => `${key}=${value}`).join(', ')}`);
}

/** What an import needs besides its folder, tag and labels. */
export interface ImportContext {
  api: EngineApi;
  io: Io;
  /** Where the tar is written (large); the system temp folder unless DEVKIT_BOOTSTRAP_DIR says otherwise. */
  scratchRoot: string;
  /** Where the tar comes from; writeRootfsTar unless a test says otherwise. */
  writeTar?: TarWriter;
}

/**
 * One import of a root filesystem folder. The tar goes to a file first and is checked there, so the engine
 * never gets a tar cut short; the image is checked after. Throws an Error saying why it failed.
 */
async function importOnce(dir: string, tag: string, labels: Record<string, string>, context: ImportContext): Promise<void> {
  const scratch = mkdtempSync(path.join(context.scratchRoot, 'devkit-import-'));
  try {
    const file = path.join(scratch, 'rootfs.tar');
    await (context.writeTar ?? writeRootfsTar)(dir, file);
    const problem = await tarProblem(file);
    if (problem !== null) throw new Error(problem);
    const id = await importTarFile(context.api, file, tag, labels);
    await checkImported(context.api, tag, id, labels);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** One import with its progress line; resolves to null when it worked, else to what went wrong. */
async function attemptImport(dir: string, tag: string, labels: Record<string, string>, context: ImportContext): Promise<Error | null> {
  const progress = startProgress(context.io, `importing ${tag}`);
  try {
    await importOnce(dir, tag, labels, context);
    progress.done('done');
    return null;
  } catch (error) {
    progress.done('failed');
    return error instanceof Error ? error : new Error(String(error));
  }
}

/**
 * Imports a root filesystem folder into the engine as tag, with labels, and checks the image it made. A failed
 * import is tried once more: a first import on a fresh machine once failed with an invalid tar header, then passed.
 */
export async function importRootfs(dir: string, tag: string, labels: Record<string, string>, context: ImportContext): Promise<void> {
  const first = await attemptImport(dir, tag, labels, context);
  if (first === null) return;
  context.io.log(`importing ${tag} failed (${oneLine(first.message)}): retrying once`);
  const second = await attemptImport(dir, tag, labels, context);
  if (second === null) return;
  const advice = `check the free disk space (${context.scratchRoot} and the engine's), then run the command again`;
  throw new DevkitError(`importing ${tag} failed twice: ${oneLine(second.message)}; ${advice}`, { cause: second });
}

/** Whether the base is there and, for the default one, made by this devkit's recipe (a configured base is the user's to keep current). */
export function baseState(baseImage: string, existing: { labels: Record<string, string> } | null): ImageState {
  if (existing === null) return 'missing';
  return baseImage !== DEFAULT_BASE_IMAGE || existing.labels[BASE_RECIPE_LABEL] === BASE_RECIPE_HASH ? 'current' : 'stale';
}

/** Makes sure the base image is present and current: bootstraps the default one (again when its recipe changed), pulls a configured one. */
export async function ensureBaseImage(api: EngineApi, baseImage: string, io: Io, env: NodeJS.ProcessEnv): Promise<string> {
  const existing = await api.inspectImage(baseImage);
  const state = baseState(baseImage, existing);
  if (existing !== null && state === 'current') return existing.id;
  if (baseImage === DEFAULT_BASE_IMAGE) {
    if (state === 'stale') io.log(`${baseImage} was made by another devkit's recipe (its package list changed): making it again`);
    await bootstrapBase(baseImage, api, io, env);
  } else {
    const docker = await dockerode(api);
    const progress = startProgress(io, `pulling ${baseImage}`);
    const stream = await docker.pull(baseImage);
    await follow(docker, stream, (event) => event.status !== undefined && progress.update(event.status));
    progress.done('done');
  }
  const made = await api.inspectImage(baseImage);
  if (made === null) throw new DevkitError(`${baseImage} is still missing after making it`);
  return made.id;
}

function contextFiles(dir: string): string[] {
  return readdirSync(dir).sort();
}

/** A hash of an image's build context and its base, so an image is rebuilt only when either changed. */
function contextHash(dir: string, baseId: string): string {
  const hash = createHash('sha256').update(baseId);
  for (const file of contextFiles(dir)) hash.update(`\0${file}\0`).update(readFileSync(path.join(dir, file)));
  return hash.digest('hex').slice(0, 32);
}

export type ImageState = 'current' | 'stale' | 'missing';

/**
 * Whether the base and each stack image are current (a stack image matches
 * its build context and the base it was built on); changes nothing.
 */
export async function imageFreshness(api: EngineApi, baseImage: string): Promise<Array<{ tag: string; state: ImageState }>> {
  const base = await api.inspectImage(baseImage);
  const stack = await Promise.all(
    STACK_IMAGES.map(async (image) => {
      const existing = await api.inspectImage(image.tag);
      if (existing === null) return { tag: image.tag, state: 'missing' as const };
      const current = base !== null && existing.labels[HASH_LABEL] === contextHash(templatePath(`images/${image.name}`), base.id);
      return { tag: image.tag, state: current ? ('current' as const) : ('stale' as const) };
    }),
  );
  return [{ tag: baseImage, state: baseState(baseImage, base) }, ...stack];
}

/** Builds the stack's images that are missing or stale; returns at once when all are up to date. */
export async function buildStackImages(options: {
  baseImage: string;
  io: Io;
  api: EngineApi;
  env: NodeJS.ProcessEnv;
}): Promise<BuiltImage[]> {
  const { api } = options;
  const baseId = await ensureBaseImage(api, options.baseImage, options.io, options.env);
  const results: BuiltImage[] = [];
  for (const image of STACK_IMAGES) {
    const context = templatePath(`images/${image.name}`);
    const hash = contextHash(context, baseId);
    const existing = await api.inspectImage(image.tag);
    if (existing?.labels[HASH_LABEL] === hash) {
      results.push({ ...image, id: existing.id, built: false });
      continue;
    }
    const docker = await dockerode(api);
    const progress = startProgress(options.io, `building ${image.tag}`);
    const stream = await docker.buildImage(
      { context, src: contextFiles(context) },
      {
        t: image.tag,
        labels: { [HASH_LABEL]: hash, 'devkit.image': image.name },
        buildargs: { BASE: options.baseImage },
        rm: true,
        forcerm: true,
      },
    );
    await follow(docker, stream, (event) => event.stream !== undefined && event.stream.trim() !== '' && progress.update(event.stream));
    progress.done('done');
    const built = await api.inspectImage(image.tag);
    if (built === null) throw new DevkitError(`docker build of ${image.tag} reported success but the image is missing`);
    results.push({ ...image, id: built.id, built: true });
  }
  return results;
}
