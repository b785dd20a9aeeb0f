import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { agentCopy, agentGit, devkit, git, useDevRoot, writeAsAgent, type DevRootFixture } from './support/sandbox.js';

interface Listed {
  index: number;
  branch: string | null;
  head: string | null;
  condition: string;
  dirty: { modified: number; untracked: number } | null;
}

async function listAgents(fx: DevRootFixture): Promise<Map<number, Listed>> {
  const result = await devkit(['worktrees', 'list', '--json'], { cwd: fx.workspace });
  expect(result.exitCode, result.stderr).toBe(0);
  return new Map((JSON.parse(result.stdout) as { agents: Listed[] }).agents.map((agent) => [agent.index, agent]));
}

describe("the git side of an agent's copy in list and status", () => {
  const devRoot = useDevRoot({ agents: 3 });
  let fx: DevRootFixture;
  beforeEach(() => {
    fx = devRoot();
  });

  it('counts changes over a HEAD that only the copy holds (a commit on a detached HEAD, never in the shared store)', async () => {
    const copy = agentCopy(fx, 2);
    await agentGit(copy, ['checkout', '-q', '--detach']);
    writeAsAgent(path.join(copy, 'only-here.txt'), 'committed in the copy alone\n');
    await agentGit(copy, ['add', 'only-here.txt']);
    await agentGit(copy, ['commit', '-qm', 'detached work']);
    const head = (await agentGit(copy, ['rev-parse', 'HEAD'])).trim();
    writeAsAgent(path.join(copy, 'only-here.txt'), 'and changed since\n');
    // The shared store does not have the commit: status must read it from the copy's objects.
    const shared = await git(fx.primary, ['cat-file', '-e', head]).then(
      () => true,
      () => false,
    );
    expect(shared).toBe(false);

    const agent2 = (await listAgents(fx)).get(2);
    expect(agent2).toMatchObject({ condition: 'ok', branch: null, head, dirty: { modified: 1, untracked: 0 } });
  });

  it("shows a new commit on the agent's branch, brought into the shared repo, with what is left uncommitted", async () => {
    const copy = agentCopy(fx, 3);
    writeAsAgent(path.join(copy, 'feature.txt'), 'work\n');
    await agentGit(copy, ['add', 'feature.txt']);
    await agentGit(copy, ['commit', '-qm', 'feature']);
    const head = (await agentGit(copy, ['rev-parse', 'HEAD'])).trim();
    writeAsAgent(path.join(copy, 'notes', 'todo.txt'), 'later\n');

    const status = await devkit(['status', '--json'], { cwd: fx.workspace });
    expect(status.exitCode, status.stderr).toBe(0);
    const agent3 = (JSON.parse(status.stdout) as { agents: Listed[] }).agents.find((agent) => agent.index === 3);
    expect(agent3).toMatchObject({ condition: 'ok', branch: 'agent3/main', head, dirty: { modified: 0, untracked: 1 } });
    expect((await git(fx.primary, ['rev-parse', 'refs/heads/agent3/main'])).trim()).toBe(head);
  });
});

describe('devkit sync', () => {
  const devRoot = useDevRoot({ agents: 2 });

  it("brings every branch of the agent's namespace at once, whatever order its folder lists them in", async () => {
    const fx = devRoot();
    const copy = agentCopy(fx, 2);
    // agent2/main is in the copy's packed-refs (devkit wrote it), the others are loose; feature/deep and feature-x sort differently by folder and by name.
    const names = [
      'agent2/zeta',
      'agent2/alpha',
      'agent2/main-fix',
      'agent2/m',
      'agent2/feature/deep',
      'agent2/feature-x',
      'agent2/Upper',
      'agent2/main',
    ];
    for (const name of names) {
      await agentGit(copy, name === 'agent2/main' ? ['switch', '-q', name] : ['switch', '-q', '-c', name, 'agent2/main']);
      await agentGit(copy, ['commit', '-q', '--allow-empty', '-m', `on ${name}`]);
    }
    const synced = await devkit(['sync', '2', '--json'], { cwd: fx.workspace });
    expect(synced.exitCode, synced.stderr).toBe(0);
    for (const name of names) {
      expect((await git(fx.primary, ['log', '-1', '--format=%s', `refs/heads/${name}`])).trim()).toBe(`on ${name}`);
    }
  });
});
