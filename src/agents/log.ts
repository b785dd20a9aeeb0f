import type { Fleet } from '../fleet/fleet.js';
import { shortBranch } from '../git/repo.js';
import type { AgentTarget } from './base.js';

/** One of agent K's commits that its base does not have. */
export interface LogEntry {
  id: string;
  subject: string;
  author: string;
  email: string;
  /** Author date, ISO 8601. */
  date: string;
}

/** `devkit log K`: `git log base..agentK/main` in the shared repo, newest first, at most `limit` (the caller synced the agent). */
export async function agentLog(fleet: Fleet, agent: AgentTarget, limit: number | null): Promise<{ base: string; commits: LogEntry[] }> {
  const out = await fleet.shared.git.run([
    'log',
    '-z',
    '--format=%H%x00%an%x00%ae%x00%aI%x00%s',
    ...(limit === null ? [] : [`--max-count=${limit}`]),
    `${agent.target}..refs/heads/${agent.branch}`,
    '--',
  ]);
  const fields = out.split('\0');
  const commits: LogEntry[] = [];
  for (let i = 0; i + 4 < fields.length; i += 5) {
    const [id = '', author = '', email = '', date = '', subject = ''] = fields.slice(i, i + 5);
    commits.push({ id: id.replace(/^\n/, ''), author, email, date, subject });
  }
  return { base: shortBranch(agent.target), commits };
}
