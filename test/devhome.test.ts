import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { agentCopy, agentGit, agentHome, git, useDevRoot, writeAsAgent, type DevRootFixture } from './support/sandbox.js';

/** Fills a HOME the way an agent's tools would: a private key, CLI state. */
function fillHome(home: string): void {
  mkdirSync(path.join(home, '.ssh'), { recursive: true });
  writeFileSync(path.join(home, '.ssh', 'id_ed25519'), 'PRIVATE KEY\n', { mode: 0o600 });
  chmodSync(path.join(home, '.ssh', 'id_ed25519'), 0o600);
  writeFileSync(path.join(home, '.claude.json'), '{"session":"x"}\n');
}

/** `git add -A && git commit` run by whoever owns the copy (the agent's uid for an agent's copy). */
async function commitEverything(copy: string, run: typeof git): Promise<string[]> {
  writeAsAgent(path.join(copy, 'real-change.txt'), 'work\n');
  await run(copy, ['add', '-A']);
  await run(copy, ['commit', '-qm', 'everything']);
  return (await run(copy, ['show', '--name-only', '--format=', 'HEAD'])).trim().split('\n');
}

describe("agents' HOMEs are never committed", () => {
  const devRoot = useDevRoot({ agents: 2 });
  let fx: DevRootFixture;
  beforeEach(() => {
    fx = devRoot();
  });

  it('git add -A && git commit in the primary clone commits nothing from .devhome-agent1', async () => {
    fillHome(agentHome(fx, 1));
    expect(await commitEverything(fx.primary, git)).toEqual(['real-change.txt']);
  });

  it("git add -A && git commit in agent 2's copy commits nothing from its HOME mounted at .devhome (as in its container)", async () => {
    // In the agentK profile the HOME is mounted at /workspace/.devhome, inside the worktree.
    fillHome(path.join(agentCopy(fx, 2), '.devhome'));
    fillHome(agentHome(fx, 2));
    expect(await commitEverything(agentCopy(fx, 2), agentGit)).toEqual(['real-change.txt']);
  });
});
