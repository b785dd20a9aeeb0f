import { createHash } from 'node:crypto';
import {
  constants,
  copyFileSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { Io } from '../cli/io.js';
import { DEFAULT_BASE_IMAGE, type DevkitConfig } from '../config/config.js';
import type { EngineApi } from '../docker/engine-api.js';
import { BASE_RECIPE, debianMirror, scratchRoot, STACK_IMAGES, type ImageState } from '../docker/images.js';
import { DevkitError, UsageError } from '../errors.js';
import { stateHome } from '../state/registry.js';
import { fetchDebs } from './apt.js';
import { dockerBuild } from './docker-build.js';
import { installNpmClis } from './npm.js';

/** devkit's own dev image: what agents run when devkit.yml has no image section. */
export const DEV_IMAGE = STACK_IMAGES[0].tag;

/** Labels of a workspace's image: what it was made from, so a new dev image makes it again. */
const FROM_LABEL = 'devkit.from';
const KEY_LABEL = 'devkit.image-key';

/** The dev image a workspace's agents run, and the key of what went into it (null: devkit's own). */
export interface WorkspaceImage {
  tag: string;
  key: string | null;
  /** The repository of the workspace's tags (`devkit/dev-<project prefix>`); null for devkit's own. */
  repository: string | null;
}

function fileHash(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** A hash of a folder's files (names, contents, symlink targets), .git left out: a Dockerfile's build context. */
function treeHash(dir: string): string {
  const hash = createHash('sha256');
  const walk = (sub: string): void => {
    for (const name of readdirSync(path.join(dir, sub)).sort()) {
      if (name === '.git') continue;
      const relative = path.join(sub, name);
      const full = path.join(dir, relative);
      const stat = lstatSync(full);
      hash.update(`\0${relative}\0${stat.mode.toString(8)}\0`);
      if (stat.isSymbolicLink()) hash.update(readlinkSync(full));
      else if (stat.isDirectory()) walk(relative);
      else if (stat.isFile()) hash.update(readFileSync(full));
    }
  };
  walk('');
  return hash.digest('hex');
}

/**
 * The workspace's dev image: devkit's own when the image section is empty,
 * else a tag of this workspace's repository named by a hash of everything
 * that goes in (packages, npm specs and tarballs, node's version, the
 * Dockerfile's folder), under the dev root's project prefix (stack/project-names.ts), so two workspaces never share a tag and a change
 * makes a new one. Reads files; asks no engine.
 */
export function workspaceImage(config: Pick<DevkitConfig, 'image' | 'baseImage'>, projectPrefix: string): WorkspaceImage {
  const { packages, npm, dockerfile } = config.image;
  if (packages.length === 0 && npm.length === 0 && dockerfile === null) return { tag: DEV_IMAGE, key: null, repository: null };
  const inputs = {
    baseImage: config.baseImage,
    packages,
    npm: npm.map((spec) => (path.isAbsolute(spec) ? `${path.basename(spec)}:${fileHash(spec)}` : spec)),
    node: npm.length > 0 ? process.version : null,
    dockerfile: dockerfile === null ? null : { name: path.basename(dockerfile), context: treeHash(path.dirname(dockerfile)) },
  };
  const key = createHash('sha256').update(JSON.stringify(inputs)).digest('hex');
  const repository = `devkit/dev-${projectPrefix}`;
  return { tag: `${repository}:${key.slice(0, 16)}`, key, repository };
}

/** Whether the workspace's image is there, made from these inputs and on the dev image devkit has now. */
async function builtImageState(api: EngineApi, image: WorkspaceImage, devImageId: string | undefined): Promise<ImageState> {
  const existing = await api.inspectImage(image.tag);
  if (existing === null) return 'missing';
  return existing.labels[FROM_LABEL] === devImageId && existing.labels[KEY_LABEL] === image.key ? 'current' : 'stale';
}

/** The state of the workspace's image (devkit's own is checked with the stack's images). */
export async function workspaceImageState(api: EngineApi, image: WorkspaceImage): Promise<ImageState> {
  return builtImageState(api, image, (await api.inspectImage(DEV_IMAGE))?.id);
}

/** Links a file into the build context (copies it where a link cannot be made: another file system). */
function place(file: string, into: string): void {
  try {
    linkSync(file, into);
  } catch {
    copyFileSync(file, into, constants.COPYFILE_FICLONE);
  }
}

/** The dpkg status of an image: what its packages layer must not install again. */
async function dpkgStatus(image: string, file: string): Promise<void> {
  const result = await execa('docker', ['run', '--rm', '--network', 'none', '--entrypoint', 'cat', image, '/var/lib/dpkg/status'], {
    reject: false,
    stdin: 'ignore',
    stripFinalNewline: false,
  });
  if (result.exitCode !== 0) throw new DevkitError(`cannot read the package list of ${image}: ${result.stderr.trim()}`);
  writeFileSync(file, result.stdout);
}

/** The build context and Dockerfile of devkit's tools layer: the .debs and npm CLIs fetched on the host, copied in. */
async function toolsContext(config: DevkitConfig, dir: string, io: Io, env: NodeJS.ProcessEnv): Promise<string> {
  const { packages, npm } = config.image;
  const steps = ['ARG DEVKIT_FROM', 'FROM ${DEVKIT_FROM}'];
  if (packages.length > 0) {
    if (config.baseImage !== DEFAULT_BASE_IMAGE)
      throw new UsageError(
        `image.packages are Debian ${BASE_RECIPE.suite} packages, for the default baseImage: ` +
          'with baseImage set, install them in image.dockerfile',
      );
    const statusFile = path.join(dir, 'dpkg-status');
    await dpkgStatus(DEV_IMAGE, statusFile);
    const debs = await fetchDebs(
      packages,
      { dir: path.join(stateHome(env), 'cache', 'apt'), statusFile, source: { mirror: debianMirror(), suite: BASE_RECIPE.suite } },
      io,
    );
    mkdirSync(path.join(dir, 'debs'));
    for (const deb of debs) place(deb, path.join(dir, 'debs', path.basename(deb)));
    steps.push(
      'COPY debs/ /tmp/devkit-debs/',
      // No lists, no network: apt installs exactly the files given, in the order their dependencies need.
      'RUN DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /tmp/devkit-debs/*.deb \\',
      ' && rm -rf /tmp/devkit-debs \\',
      // As in devkit's dev image: no setuid or setgid programs.
      ' && find / -xdev -type f -perm /6000 -exec chmod ug-s {} +',
    );
  }
  if (npm.length > 0) {
    await installNpmClis(npm, path.join(dir, 'npm'), io);
    place(process.execPath, path.join(dir, 'node'));
    steps.push('COPY node /usr/local/bin/node', 'COPY npm/ /usr/local/');
  }
  const dockerfile = path.join(dir, 'Dockerfile');
  writeFileSync(dockerfile, `${steps.join('\n')}\n`);
  return dockerfile;
}

/** Refuses a Dockerfile whose first FROM is not the image devkit makes for it (it would leave out the packages and CLIs). */
export function checkUserDockerfile(file: string): void {
  const from = /^\s*FROM\s+(?:--\S+\s+)*(\S+)/im.exec(readFileSync(file, 'utf8'))?.[1];
  if (from !== '${DEVKIT_IMAGE}' && from !== '$DEVKIT_IMAGE')
    throw new UsageError(
      `${file}: its first FROM is ${from ?? 'missing'}; ` +
        "build on devkit's image for this workspace: ARG DEVKIT_IMAGE, then FROM ${DEVKIT_IMAGE}",
    );
}

/** Removes this workspace's older image tags (an image a container still runs is kept by the engine). */
async function removeOldTags(repository: string, keep: readonly string[]): Promise<void> {
  const listed = await execa('docker', ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', repository], {
    reject: false,
    stdin: 'ignore',
  });
  const old = listed.stdout.split('\n').filter((tag) => tag.startsWith(`${repository}:`) && !keep.includes(tag));
  if (old.length > 0) await execa('docker', ['image', 'rm', ...old], { reject: false, stdin: 'ignore' });
}

/**
 * Makes the workspace's dev image when it is missing or was made from
 * another dev image: devkit's tools layer (packages, npm CLIs; no network in
 * the build), then the user's Dockerfile FROM it (build arg DEVKIT_IMAGE).
 * `image` is workspaceImage's answer for config. Returns its tag and whether it was built.
 */
export async function ensureWorkspaceImage(
  config: DevkitConfig,
  image: WorkspaceImage,
  context: { api: EngineApi; io: Io; env: NodeJS.ProcessEnv },
): Promise<{ tag: string; built: boolean }> {
  if (image.key === null || image.repository === null) return { tag: image.tag, built: false };
  const { api, io, env } = context;
  const dev = await api.inspectImage(DEV_IMAGE);
  if (dev === null) throw new DevkitError(`${DEV_IMAGE} is missing: run devkit image build`);
  if ((await builtImageState(api, image, dev.id)) === 'current') return { tag: image.tag, built: false };
  const labels = { 'devkit.image': 'workspace', [FROM_LABEL]: dev.id, [KEY_LABEL]: image.key };
  const { packages, npm, dockerfile } = config.image;
  if (dockerfile !== null) checkUserDockerfile(dockerfile);
  const toolsTag = dockerfile === null ? image.tag : `${image.tag}-tools`;
  const scratch = mkdtempSync(path.join(scratchRoot(env), 'devkit-image-'));
  try {
    let from: string = DEV_IMAGE;
    if (packages.length > 0 || npm.length > 0) {
      const toolsDockerfile = await toolsContext(config, scratch, io, env);
      await dockerBuild(
        {
          context: scratch,
          dockerfile: toolsDockerfile,
          tag: toolsTag,
          labels,
          buildArgs: { DEVKIT_FROM: DEV_IMAGE },
          network: 'none',
          label: `building ${toolsTag}`,
        },
        io,
      );
      from = toolsTag;
    }
    if (dockerfile !== null) {
      await dockerBuild(
        {
          context: path.dirname(dockerfile),
          dockerfile,
          tag: image.tag,
          labels,
          buildArgs: { DEVKIT_IMAGE: from },
          network: 'default',
          label: `building ${image.tag} from ${path.basename(dockerfile)}`,
        },
        io,
      );
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  await removeOldTags(image.repository, [image.tag, toolsTag]);
  return { tag: image.tag, built: true };
}
