import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { importRootfs, writeRootfsTar, type TarWriter } from '../src/docker/images.js';
import { EngineApi, connectEngine } from '../src/docker/engine-api.js';
import { resolveEndpoint } from '../src/docker/endpoint.js';
import { DevkitError } from '../src/errors.js';
import type { Io } from '../src/cli/io.js';
import { recordingIo as baseRecordingIo } from './support/io.js';
import { describeWithDocker } from './support/docker.js';

const run = randomBytes(4).toString('hex');
const repo = `devkit-test/import-${run}`;
/** A unique label marks every image this file makes, so cleanup finds them even untagged. */
const labels = { 'devkit-test.import': run, 'devkit-test.note': 'two words' };

/** An Io that keeps its log lines. */
function recordingIo(): Io & { logs: string[] } {
  return baseRecordingIo();
}

/** The block (of 512 bytes) where a member's header is, by tar's block numbers (-R). */
async function headerBlock(file: string, member: string): Promise<number> {
  const listing = (await execa('tar', ['-tvRf', file])).stdout;
  const line = listing.split('\n').find((entry) => entry.endsWith(` ${member}`));
  const block = /^block (\d+):/.exec(line ?? '')?.[1];
  if (block === undefined) throw new Error(`${member} is not in ${file}:\n${listing}`);
  return Number(block);
}

/** A good tar cut short where `where` says, given the byte where ./blob's header starts (its 3000 bytes follow it). */
function truncatedTar(where: (blobHeader: number) => number): TarWriter {
  return async (dir, file) => {
    await writeRootfsTar(dir, file);
    truncateSync(file, where((await headerBlock(file, './blob')) * 512));
  };
}

/** A good tar whose first header is overwritten in its mode and owner fields: its checksum no longer matches. */
const corruptedTar: TarWriter = async (dir, file) => {
  await writeRootfsTar(dir, file);
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, Buffer.alloc(24, 'X'), 0, 24, 100);
  } finally {
    closeSync(fd);
  }
};

/** A tar tar -tf lists without a complaint but the engine cannot unpack: a hard link to a member deleted from it. */
const danglingLinkTar: TarWriter = async (dir, file) => {
  await execa('tar', ['-C', dir, '-cf', file, './etc/hello', './etc/hello-link']);
  await execa('tar', ['--delete', '-f', file, './etc/hello']);
};

/** A writer that hands out the given writers in turn (the last one again and again), counting its calls. */
function inTurn(...writers: TarWriter[]): TarWriter & { calls: number } {
  const writer = Object.assign(
    async (dir: string, file: string): Promise<void> => {
      const next = writers[Math.min(writer.calls, writers.length - 1)];
      writer.calls += 1;
      if (next === undefined) throw new Error('inTurn needs a writer');
      await next(dir, file);
    },
    { calls: 0 },
  );
  return writer;
}

/** The real engine, except that every image it inspects has lost its labels. */
class LabelBlindApi extends EngineApi {
  override async inspectImage(name: string): Promise<{ id: string; labels: Record<string, string> } | null> {
    const found = await super.inspectImage(name);
    return found === null ? null : { ...found, labels: {} };
  }
}

/** Images this file made: by their repository and, for ones a later import untagged, by their label. */
async function madeImages(): Promise<string[]> {
  const named = await execa('docker', ['images', '--filter', `reference=${repo}`, '--format', '{{.Repository}}:{{.Tag}}']);
  const labelled = await execa('docker', ['images', '-a', '--filter', `label=devkit-test.import=${run}`, '--format', '{{.ID}}']);
  return [...new Set([...named.stdout.split('\n'), ...labelled.stdout.split('\n')].filter(Boolean))];
}

async function labelsOf(tag: string): Promise<Record<string, string>> {
  const inspected = await execa('docker', ['image', 'inspect', '--format', '{{json .Config.Labels}}', tag]);
  return JSON.parse(inspected.stdout) as Record<string, string>;
}

async function imageExists(tag: string): Promise<boolean> {
  return (await execa('docker', ['image', 'inspect', tag], { reject: false })).exitCode === 0;
}

describeWithDocker('importRootfs: the base image import, checked and retried once', () => {
  let work = '';
  let rootfs = '';
  let scratch = '';
  let api: EngineApi;
  const savedScratch = process.env.DEVKIT_BOOTSTRAP_DIR;

  beforeAll(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'devkit-import-test-'));
    rootfs = path.join(work, 'rootfs');
    mkdirSync(path.join(rootfs, 'etc'), { recursive: true });
    writeFileSync(path.join(rootfs, 'etc', 'hello'), 'hello\n');
    linkSync(path.join(rootfs, 'etc', 'hello'), path.join(rootfs, 'etc', 'hello-link'));
    writeFileSync(path.join(rootfs, 'blob'), randomBytes(3000));
    // The import's tar files go here, so the test sees they are removed.
    scratch = path.join(work, 'scratch');
    mkdirSync(scratch);
    process.env.DEVKIT_BOOTSTRAP_DIR = scratch;
    api = await connectEngine(process.env);
  });

  afterEach(async () => {
    const images = await madeImages();
    if (images.length > 0) await execa('docker', ['rmi', '-f', ...images], { reject: false });
    if (scratch !== '') expect(readdirSync(scratch)).toEqual([]);
  });

  afterAll(async () => {
    if (savedScratch === undefined) delete process.env.DEVKIT_BOOTSTRAP_DIR;
    else process.env.DEVKIT_BOOTSTRAP_DIR = savedScratch;
    if (work !== '') rmSync(work, { recursive: true, force: true });
    expect(await madeImages()).toEqual([]);
  });

  /** Runs an import that must fail twice; returns its error and what it logged. */
  async function failingImport(
    tag: string,
    writer: TarWriter & { calls: number },
    engineApi: EngineApi = api,
  ): Promise<{ error: unknown; logs: string[] }> {
    const io = recordingIo();
    const error = await importRootfs(rootfs, tag, labels, { api: engineApi, io, writeTar: writer, scratchRoot: os.tmpdir() }).then(
      () => null,
      (failure: unknown) => failure,
    );
    expect(writer.calls).toBe(2);
    return { error, logs: io.logs };
  }

  /** One log line says the import is retried, and why. */
  function expectOneRetryLine(logs: string[], tag: string, words: string): void {
    const retries = logs.filter((line) => line.includes('retrying'));
    expect(retries).toEqual([expect.stringContaining(`importing ${tag} failed (${words}`)]);
    expect(retries[0]).toMatch(/\): retrying once$/);
  }

  /** The one line a user sees: the tag, the tool's own words, what to do. */
  function expectClearError(error: unknown, tag: string, words: string): void {
    expect(error).toBeInstanceOf(DevkitError);
    const message = (error as DevkitError).message;
    expect(message).not.toContain('\n');
    expect(message).toContain(`importing ${tag} failed twice: `);
    expect(message).toContain(words);
    expect(message).toContain('then run the command again');
  }

  // The engine notices only the first of these cuts; tar -tf the first two; the end-of-archive check the third.
  const tarEof = 'tar -tf found the tar broken: tar: Unexpected EOF in archive';
  it.each([
    ["inside a file's data", (blob: number) => blob + 512 + 1000, tarEof],
    ["after a file's data, in its padding", (blob: number) => blob + 512 + 3010, tarEof],
    ["at a member's edge", (blob: number) => blob, 'the tar has no end-of-archive blocks: it was cut short'],
  ])('refuses a tar cut short %s with one clear line, after one retry', async (_where, cut, words) => {
    const tag = `${repo}:truncated`;
    const { error, logs } = await failingImport(tag, inTurn(truncatedTar(cut)));
    expectClearError(error, tag, words);
    expect(await imageExists(tag)).toBe(false);
    expectOneRetryLine(logs, tag, words);
  });

  it('refuses a corrupted tar with one clear line, after one retry', async () => {
    const tag = `${repo}:corrupted`;
    const { error, logs } = await failingImport(tag, inTurn(corruptedTar));
    const words = 'tar -tf found the tar broken: tar: This does not look like a tar archive';
    expectClearError(error, tag, words);
    expect(await imageExists(tag)).toBe(false);
    expectOneRetryLine(logs, tag, words);
  });

  it("names the engine's own message when the engine refuses a tar that tar -tf accepts", async () => {
    const tag = `${repo}:dangling`;
    const { error, logs } = await failingImport(tag, inTurn(danglingLinkTar));
    const words = 'the engine said: Error processing tar file(exit status 1): link ';
    expectClearError(error, tag, words);
    expect(await imageExists(tag)).toBe(false);
    expectOneRetryLine(logs, tag, words);
  });

  it('checks the image after the import: one whose labels are not there fails it', async () => {
    const tag = `${repo}:unlabelled`;
    const { error, logs } = await failingImport(tag, inTurn(writeRootfsTar), new LabelBlindApi(resolveEndpoint(process.env)));
    const words = `${tag} lacks the label devkit-test.import=${run}, devkit-test.note=two words`;
    expectClearError(error, tag, words);
    expectOneRetryLine(logs, tag, words);
  });

  it.each([
    ['corrupted', corruptedTar, 'tar -tf found the tar broken: '],
    ['dangling', danglingLinkTar, 'the engine said: '],
  ])('retries once after a %s tar, and keeps the image the retry made', async (name, firstTar, words) => {
    const tag = `${repo}:retried-${name}`;
    const io = recordingIo();
    const writer = inTurn(firstTar, writeRootfsTar);
    await importRootfs(rootfs, tag, labels, { api, io, writeTar: writer, scratchRoot: os.tmpdir() });
    expect(writer.calls).toBe(2);
    expectOneRetryLine(io.logs, tag, words);
    expect(await labelsOf(tag)).toEqual(labels);
  });

  it('imports a good tar at the first attempt, with its labels', async () => {
    const tag = `${repo}:good`;
    const io = recordingIo();
    const writer = inTurn(writeRootfsTar);
    await importRootfs(rootfs, tag, labels, { api, io, writeTar: writer, scratchRoot: os.tmpdir() });
    expect(writer.calls).toBe(1);
    expect(io.logs).toEqual([`importing ${tag}...`, `importing ${tag}: done`]);
    expect(await labelsOf(tag)).toEqual(labels);
  });
});
