import os from 'node:os';
import type { GitIdentityConfig } from '../config/sections.js';
import { agentName } from './layout.js';
import { Git, type GitBase } from '../git/git.js';

/**
 * The git identity an agent commits with in its container, written into a new
 * HOME's .gitconfig so a first commit just works: devkit.yml's `git.agents.agentK`,
 * then `git.name` / `git.email`, then the host user's own git identity (their
 * global config), and when none says it, `devkit agentK <agentK@devkit.invalid>`
 * (a name that says who made the commit; .invalid never resolves).
 */
export interface GitIdentity {
  name: string;
  email: string;
}

/** user.name and user.email from the host user's global git config (theirs: no agent writes it); unset parts absent. */
export async function hostGitIdentity(base: GitBase): Promise<Partial<GitIdentity>> {
  const found = await new Git(base, os.homedir()).result(['config', '--global', '--get-regexp', '^user\\.(name|email)$']);
  const identity: Partial<GitIdentity> = {};
  for (const line of found.exitCode === 0 ? found.stdout.split('\n') : []) {
    const [, key, value] = /^user\.(name|email) (.+)$/.exec(line) ?? [];
    if (key === 'name' || key === 'email') identity[key] = value;
  }
  return identity;
}

export function agentGitIdentity(config: GitIdentityConfig, host: Partial<GitIdentity>, index: number): GitIdentity {
  const name = agentName(index);
  const own = config.agents[name] ?? {};
  return {
    name: own.name ?? config.name ?? host.name ?? `devkit ${name}`,
    email: own.email ?? config.email ?? host.email ?? `${name}@devkit.invalid`,
  };
}

/** The [user] section of a .gitconfig; values quoted as git reads them (devkit.yml's are checked to need no escapes). */
export function gitconfigUser(identity: GitIdentity): string {
  const quoted = (value: string): string => `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  return `[user]\n\tname = ${quoted(identity.name)}\n\temail = ${quoted(identity.email)}\n`;
}

/**
 * What a new HOME's .gitconfig says: who commits (above), and that
 * git may trust every repository it meets. Inside a container the agent's git
 * reads the shared repo (at the paths each profile mounts it), which belongs
 * to another uid when devkit runs as root; every repository in there is the
 * agent's own or that read-only one.
 */
export function initialGitconfig(identity: GitIdentity): string {
  return `# written by devkit when it made this HOME; yours (the agent's) to change\n${gitconfigUser(identity)}[safe]\n\tdirectory = *\n`;
}
