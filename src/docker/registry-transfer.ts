import type { Io } from '../cli/io.js';
import { mebibytes, stepProgress, type Progress } from '../cli/progress.js';
import { DevkitError, oneLine } from '../errors.js';
import { debugSwallow } from '../debug.js';
import { splitTag, type EngineApi } from './engine-api.js';
import { describeEndpoint } from './endpoint.js';
import { followImageStream, type ImageStreamEvent } from './images.js';
import { findCredentials, registryAuthHeader, registryHost } from './registry-auth.js';

/**
 * Images to a remote engine through a registry (devkit.yml `registry:`): this
 * machine's engine pushes each image under the registry's prefix, the remote
 * engine pulls it and names it as devkit does here. Only the layers the
 * registry or the remote engine lack travel, and the remote engine may sit
 * far closer to the registry than to this machine.
 *
 * In the registry an image is tagged by its ID, so a name there never means
 * two images (two machines pushing `devkit/dev:local` at once cannot swap
 * each other's). The ID is the digest of the image's config, which names its
 * layers' digests, so the pulled image having the same ID is the proof that
 * it is the image built here, whatever the registry served.
 */

export interface ImageToSend {
  /** devkit's name for it (devkit/dev:local). */
  tag: string;
  /** Its ID on this machine's engine (sha256:...). */
  id: string;
}

export interface RegistryRoute {
  /** devkit.yml's `registry:`: HOST[:PORT][/PATH]. */
  registry: string;
  /** Where the docker config (and its credentials) is found. */
  env: NodeJS.ProcessEnv;
}

/** The first part of a reference is a registry when it has a dot or a port, or is localhost (the docker CLI's rule). */
function withoutRegistry(repo: string): string {
  const [first, ...rest] = repo.split('/');
  const isHost = first !== undefined && rest.length > 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  return isHost ? rest.join('/') : repo;
}

/** The image's name in the registry: its repository under the registry's prefix, tagged by its ID. */
export function registryReference(registry: string, image: ImageToSend): string {
  const repo = withoutRegistry(splitTag(image.tag).repo);
  return `${registry}/${repo}:${image.id.replace(':', '-')}`;
}

/** Layers done and bytes moved, from a push's or pull's messages, as one progress detail. */
function layerCounter(finished: (status: string) => boolean): { see: (event: ImageStreamEvent) => string | null; bytes: () => number } {
  const layers = new Map<string, { done: boolean; bytes: number }>();
  const bytes = (): number => [...layers.values()].reduce((sum, layer) => sum + layer.bytes, 0);
  return {
    see: (event) => {
      if (event.id === undefined || event.status === undefined || !/^[0-9a-f]{12}$/.test(event.id)) return null;
      const layer = layers.get(event.id) ?? { done: false, bytes: 0 };
      layer.done ||= finished(event.status);
      layer.bytes = Math.max(layer.bytes, event.progressDetail?.current ?? 0);
      layers.set(event.id, layer);
      const done = [...layers.values()].filter((each) => each.done).length;
      return `${done}/${layers.size} layers, ${mebibytes(bytes())}`;
    },
    bytes,
  };
}

const PUSHED = (status: string): boolean => status === 'Pushed' || status === 'Layer already exists' || status.startsWith('Mounted from');
const PULLED = (status: string): boolean => status === 'Pull complete' || status === 'Already exists';

/** Runs one push or pull to its end with its layers on the progress line; says how much moved. */
async function moveLayers(
  api: EngineApi,
  start: () => Promise<NodeJS.ReadableStream>,
  progress: Progress,
  finished: (status: string) => boolean,
): Promise<void> {
  const started = Date.now();
  const counter = layerCounter(finished);
  await followImageStream(api, await start(), (event) => {
    const detail = counter.see(event);
    if (detail !== null) progress.update(detail);
  });
  progress.done(`${mebibytes(counter.bytes())} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** What to add to a failed step: how to give devkit the credentials it lacked, or where the remote engine must reach the registry. */
function failureHint(message: string, host: string, step: 'push' | 'pull'): string {
  if (/unauthorized|authentication required|no basic auth credentials|denied/i.test(message))
    return ` (log in with docker login ${host}: devkit uses the docker config's credentials)`;
  if (step === 'pull' && /dial tcp|connection refused|no such host|i\/o timeout|server gave HTTP response to HTTPS client/i.test(message))
    return ` (that engine reaches the registry itself, by the name ${host} devkit.yml gives it)`;
  return '';
}

/** One image: pushed from `source`, pulled on `target`, named there as here; the registry's name is taken off both after. */
async function sendOne(image: ImageToSend, options: { source: EngineApi; target: EngineApi; registry: string; auth: string; io: Io }) {
  const { source, target, registry, auth, io } = options;
  const reference = registryReference(registry, image);
  const host = registryHost(registry);
  // One line per step (push, pull), and a failure as one line naming the step.
  const step = async (label: string, kind: 'push' | 'pull', run: (progress: Progress) => Promise<void>): Promise<void> => {
    const progress = stepProgress(io, label);
    try {
      await run(progress);
    } catch (error) {
      progress.done('failed');
      const reason = oneLine(error instanceof Error ? error.message.replace(/^docker: /, '') : String(error));
      throw new DevkitError(`${label} failed: ${reason}${failureHint(reason, host, kind)}`, { cause: error });
    }
  };
  await source.tagImage(image.id, reference);
  try {
    await step(`pushing ${image.tag} to ${registry}`, 'push', (progress) =>
      moveLayers(source, () => source.pushImage(reference, auth), progress, PUSHED),
    );
  } finally {
    await source.untagImage(reference).catch(debugSwallow(`untagging ${reference} here`));
  }
  await step(`pulling ${image.tag} from ${registry} on ${describeEndpoint(target.endpoint)}`, 'pull', (progress) =>
    moveLayers(target, () => target.pullImage(reference, auth), progress, PULLED),
  );
  try {
    // By ID, not by the registry's name: another devkit pulling the same image there may have taken that name off already.
    if ((await target.inspectImage(image.id)) === null) {
      const pulled = await target.inspectImage(reference);
      throw new DevkitError(
        `${registry} served ${reference} as ${pulled?.id ?? 'nothing'}, not the ${image.id} built here: ` +
          'the registry does not hold what devkit pushed (take registry: out of devkit.yml to copy images instead)',
      );
    }
    await target.tagImage(image.id, image.tag);
  } finally {
    await target.untagImage(reference).catch(debugSwallow(`untagging ${reference} there`));
  }
}

/** Sends each image through the registry, one after the other (their shared layers go once). */
export async function sendThroughRegistry(
  images: readonly ImageToSend[],
  options: { source: EngineApi; target: EngineApi; route: RegistryRoute; io: Io },
): Promise<void> {
  const { route } = options;
  const auth = registryAuthHeader(await findCredentials(route.env, registryHost(route.registry)));
  for (const image of images) await sendOne(image, { ...options, registry: route.registry, auth });
}
