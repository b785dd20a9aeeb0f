import { Transform } from 'node:stream';
import type { Io } from '../cli/io.js';
import { mebibytes, stepProgress, type Progress } from '../cli/progress.js';
import { DevkitError, oneLine } from '../errors.js';
import type { EngineApi } from './engine-api.js';
import { describeEndpoint } from './endpoint.js';
import { sendThroughRegistry, type RegistryRoute } from './registry-transfer.js';

/**
 * Copies images from one engine (the local one) to another (a remote one)
 * through the Engine API alone: the source's `GET /images/get` streamed into
 * the target's `POST /images/load`, as `docker save | docker -H ... load`
 * would, with no registry, no docker CLI and no file of the whole tar; or,
 * when devkit.yml names a registry, through it (registry-transfer.ts).
 */

export interface TransferredImage {
  tag: string;
  id: string;
  /**
   * copied: its tar went across; pulled: the target pulled it from the
   * registry (registry-transfer.ts); tagged: the target had the image under
   * another name; present: nothing to do.
   */
  action: 'copied' | 'pulled' | 'tagged' | 'present';
}

/** How often the byte count on a terminal is redrawn. */
const PROGRESS_EVERY_MS = 250;

/** Passes bytes through, counting them onto the progress line. */
function byteCounter(progress: Progress): { stream: Transform; bytes: () => number } {
  let bytes = 0;
  let shown = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (Date.now() - shown >= PROGRESS_EVERY_MS) {
        shown = Date.now();
        progress.update(mebibytes(bytes));
      }
      done(null, chunk);
    },
  });
  return { stream, bytes: () => bytes };
}

/** Streams the tar of `tags` from source into target; throws an Error saying why it failed. */
async function copyTar(source: EngineApi, target: EngineApi, tags: readonly string[], progress: Progress): Promise<number> {
  const tar = await source.exportImages(tags);
  const counter = byteCounter(progress);
  // The source failing mid-way ends the load too (its connection is closed unfinished), and is what is said.
  const broken: { error: Error | null } = { error: null };
  tar.on('error', (error) => {
    broken.error = error;
    counter.stream.destroy(error);
  });
  try {
    await target.loadImages(tar.pipe(counter.stream));
  } catch (error) {
    if (broken.error === null) throw error;
    const read = mebibytes(counter.bytes());
    throw new Error(`reading them from ${describeEndpoint(source.endpoint)} failed after ${read}: ${broken.error.message}`, {
      cause: error,
    });
  }
  return counter.bytes();
}

/**
 * Makes sure `target` has each of `tags` as `source` has it (the same image
 * ID): those it has already are left alone, an image it has under another
 * name only gets the tag, and the rest go across: through the registry when
 * devkit.yml names one (`route`), else in one tar (shared layers once).
 * Progress shows on stderr; --json and --quiet show none. A copy that fails
 * is one line naming the images and the engine.
 */
export async function ensureImagesOn(
  target: EngineApi,
  tags: readonly string[],
  options: { source: EngineApi; io: Io; route?: RegistryRoute | null },
): Promise<TransferredImage[]> {
  const { source, io, route } = options;
  const where = describeEndpoint(target.endpoint);
  const results: TransferredImage[] = [];
  const missing: Array<{ tag: string; id: string }> = [];
  for (const tag of tags) {
    const local = await source.inspectImage(tag);
    if (local === null)
      throw new DevkitError(`${tag} is not on ${describeEndpoint(source.endpoint)}: build it there first (devkit image build)`);
    const there = await target.inspectImage(tag);
    if (there?.id === local.id) {
      results.push({ tag, id: local.id, action: 'present' });
    } else if ((await target.inspectImage(local.id)) !== null) {
      await target.tagImage(local.id, tag);
      results.push({ tag, id: local.id, action: 'tagged' });
    } else {
      missing.push({ tag, id: local.id });
    }
  }
  if (missing.length === 0) return results;
  if (route) {
    await sendThroughRegistry(missing, { source, target, route, io });
    return [...results, ...missing.map((image) => ({ ...image, action: 'pulled' as const }))];
  }

  const names = missing.map((image) => image.tag);
  const progress = stepProgress(io, `copying ${names.join(', ')} to ${where}`);
  const started = Date.now();
  try {
    const bytes = await copyTar(source, target, names, progress);
    for (const image of missing) {
      const copied = await target.inspectImage(image.tag);
      if (copied?.id !== image.id)
        throw new Error(`the engine loaded the tar, but ${image.tag} is ${copied?.id ?? 'missing'} there, not ${image.id}`);
    }
    progress.done(`${mebibytes(bytes)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    progress.done('failed');
    const reason = oneLine(error instanceof Error ? error.message : String(error));
    throw new DevkitError(`copying ${names.join(', ')} to the Docker engine at ${where} failed: ${reason}`, { cause: error });
  }
  return [...results, ...missing.map((image) => ({ ...image, action: 'copied' as const }))];
}
