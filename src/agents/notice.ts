import path from 'node:path';
import { UsageError } from '../errors.js';
import type { GitBase } from '../git/git.js';
import { renderText } from '../templates.js';
import { checkPathArg } from '../validate.js';
import { copyIdentity } from './identity.js';
import { debugSwallow } from '../debug.js';

/**
 * The notice for an agent forked into a copy: the paths it inherited name
 * the parent's folder, and this is how they map onto its own copy.
 * `fromRaw` must be a folder in a working copy of the same repo, inside the dev root.
 */
export async function worktreeNotice(cwd: string, fromRaw: string, env: NodeJS.ProcessEnv, git: GitBase): Promise<string> {
  const self = await copyIdentity(cwd, env, git);
  if (self.original_cwd === null) throw new UsageError(`${self.path} is not part of a devkit dev root (its repo has no primary clone)`);
  const devRoot = path.dirname(self.original_cwd);
  const parent = checkPathArg(fromRaw, { label: '--from', base: cwd, within: devRoot });
  const parentInfo = await copyIdentity(parent, env, git).catch(debugSwallow(`the copy holding ${parent}`));
  if (parentInfo === null || parentInfo.original_cwd !== self.original_cwd || parentInfo.index === null) {
    throw new UsageError(`--from ${parent} is not a working copy of this repo (${self.original_cwd})`);
  }
  // A subfolder of the parent maps onto the same subfolder of this copy.
  const below = path.relative(parentInfo.path, parent);
  return renderText('worktree-notice.txt.hbs', {
    worktree: path.join(self.path, below),
    branch: self.branch,
    parent,
    parentBranch: parentInfo.branch,
  });
}
