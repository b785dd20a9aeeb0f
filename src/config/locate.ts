import { existsSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { rootHolding, stateHome } from '../state/registry.js';
import { CONFIG_FILE, findConfigFile } from './find.js';

/** Where a command's workspace is, before devkit.yml is parsed. Kept light: exec-cd's fast path uses it. */
export interface WorkspaceLocation {
  dir: string;
  /** null when DEVKIT_ROOT / DEVKIT_REPO stand in for devkit.yml. */
  configPath: string | null;
  stateHome: string;
}

/**
 * The workspace for a command run in `cwd`: devkit.yml in cwd or a parent; else,
 * inside a dev root devkit knows, the workspace that manages it (so commands
 * work from inside an agent's copy); else DEVKIT_ROOT / DEVKIT_REPO. A
 * devkit.yml inside a known dev root is refused: an agent could have put it
 * there, with a compose.yml that mounts what it likes.
 */
export function locateWorkspace(cwd: string, env: NodeJS.ProcessEnv): WorkspaceLocation {
  const home = stateHome(env);
  const found = findConfigFile(cwd);
  if (found !== null) {
    const dir = path.dirname(found);
    const holder = rootHolding(home, dir);
    if (holder !== null) {
      throw new UsageError(
        `${found} is inside the dev root ${holder.root}, where agents can write: devkit does not trust it; ` +
          `run devkit from the workspace outside the root (${holder.workspaces.at(-1) ?? 'devkit init makes one'}), or delete that file`,
      );
    }
    return { dir, configPath: found, stateHome: home };
  }
  const holder = rootHolding(home, cwd);
  // The workspace used last whose devkit.yml is still there (one deleted since is passed over).
  const registered = holder?.workspaces.filter((workspace) => existsSync(path.join(workspace, CONFIG_FILE))).at(-1);
  if (registered !== undefined) return { dir: registered, configPath: path.join(registered, CONFIG_FILE), stateHome: home };
  if (env.DEVKIT_ROOT !== undefined && env.DEVKIT_REPO !== undefined) return { dir: cwd, configPath: null, stateHome: home };
  if (holder !== null) {
    throw new UsageError(
      `${cwd} is in the dev root ${holder.root}, but no workspace that managed it is left ` +
        `(${holder.workspaces.join(', ') || 'none recorded'}): ` +
        `run devkit init --root ${holder.root} --repo ${holder.repo} in a folder outside it`,
    );
  }
  throw new UsageError(`no ${CONFIG_FILE} in ${cwd} or any parent: run devkit init --root DIR --repo NAME first`);
}
