import { existsSync } from 'node:fs';
import type { EngineApi } from '../docker/engine-api.js';
import type { Fleet } from '../fleet/fleet.js';
import { DEV_IMAGE, workspaceImage, workspaceImageState } from '../image/workspace-image.js';
import { runCompose } from '../stack/compose.js';
import { resolveProfile } from '../stack/profile.js';
import { DEV_ALL } from '../stack/workspace-files.js';
import { projectPrefix } from '../stack/project-names.js';

/** What doctor says of the dev image: a finding's ok, detail and fix. */
export interface DevImageFinding {
  ok: boolean;
  detail: string;
  fix?: string;
}

/** The image the workspace's compose files give the dev service, as compose resolves them (a hand edit included). */
async function composeDevImage(fleet: Fleet): Promise<string | null> {
  const { files } = resolveProfile(fleet, DEV_ALL);
  if (!files.every((file) => existsSync(file))) return null;
  const json = await runCompose({ cwd: fleet.workspace.dir, files, args: ['config', '--format', 'json'], quiet: true });
  return (JSON.parse(json) as { services?: { dev?: { image?: string } } }).services?.dev?.image ?? null;
}

/**
 * The image the workspace's agents run: the one devkit.yml's image section
 * makes (there and current), devkit's own, or one named by hand in
 * compose.yml (there or not; devkit does not build it).
 */
export async function devImageFinding(api: EngineApi, fleet: Fleet): Promise<DevImageFinding | null> {
  const image = await composeDevImage(fleet).catch(
    (error: unknown) => `unreadable (${error instanceof Error ? error.message : String(error)})`,
  );
  if (image === null) return null;
  const wanted = workspaceImage(fleet.config, projectPrefix(fleet.config));
  if (image !== wanted.tag && wanted.key !== null)
    return {
      ok: false,
      detail: `compose.yml runs ${image} for dev, not ${wanted.tag}, which devkit.yml's image section makes`,
      fix: "set the dev service's image to ${DEVKIT_DEV_IMAGE} in compose.yml",
    };
  if (image === wanted.tag && wanted.key !== null) {
    const state = await workspaceImageState(api, wanted);
    return state === 'current'
      ? { ok: true, detail: `dev runs ${image}, made from devkit.yml's image section` }
      : { ok: false, detail: `dev runs ${image}, which is ${state}`, fix: 'devkit image build' };
  }
  // devkit's own image is checked with the stack's images.
  if (image === DEV_IMAGE) return { ok: true, detail: `dev runs ${image}` };
  return (await api.inspectImage(image)) === null
    ? {
        ok: false,
        detail: `compose.yml runs ${image} for dev (named by hand), which the engine does not have`,
        fix: `docker pull ${image}, or build it`,
      }
    : { ok: true, detail: `dev runs ${image}, named by hand in compose.yml: devkit does not build it` };
}
