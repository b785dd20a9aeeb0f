import path from 'node:path';
import { UsageError } from '../errors.js';
import { workingCopyOf } from '../git/repo.js';
import { renderText } from '../templates.js';
import { checkPathArg } from '../validate.js';
import { sessionInfo } from './session.js';

/**
 * The notice for an agent forked into a worktree: the paths it inherited name
 * the parent's directory, and this is how they map onto its own copy.
 * `fromRaw` must be a folder in a working copy of the same repo, inside the dev root.
 */
export async function worktreeNotice(cwd: string, fromRaw: string): Promise<string> {
  const self = await sessionInfo(cwd);
  if (self.original_cwd === null) throw new UsageError(`${self.path} is not part of a devkit dev root (its repo has no primary clone)`);
  const devRoot = path.dirname(self.original_cwd);
  const parent = checkPathArg(fromRaw, { label: '--from', base: cwd, within: devRoot });
  const parentCopy = await workingCopyOf(parent);
  const selfCopy = await workingCopyOf(self.path);
  if (parentCopy === null || selfCopy === null || parentCopy.commonDir !== selfCopy.commonDir) {
    throw new UsageError(`--from ${parent} is not a working copy of this repo (${self.original_cwd})`);
  }
  const parentInfo = await sessionInfo(parent);
  // A subfolder of the parent maps onto the same subfolder of this copy.
  const below = path.relative(parentCopy.top, parent);
  return renderText('worktree-notice.txt.hbs', {
    worktree: path.join(self.path, below),
    branch: self.branch,
    parent,
    parentBranch: parentInfo.branch,
  });
}
