import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { devkit, expectRefused, makeDevRoot, snapshot, type DevRootFixture } from './support/sandbox.js';

interface Shown {
  presets: string[];
  allow: string[];
  ports: number[];
}

/**
 * The egress policy as devkit.yml holds it and `policy` edits it: presets,
 * the global lists and each agent's own, for domains and ports. (What the
 * sidecars then let through is tested against real containers in
 * egress-ssh.test.ts and security/egress.test.ts.)
 */
describe('egress presets and policy edits', () => {
  const fixtures: DevRootFixture[] = [];
  let fx: DevRootFixture;
  afterAll(() => fixtures.forEach((f) => f.cleanup()));
  beforeEach(async () => {
    fx = await makeDevRoot();
    fixtures.push(fx);
  });
  const run = (args: string[]) => devkit(args, { cwd: fx.workspace });
  const show = async (agent?: number): Promise<Shown> => {
    const shown = await run(['policy', 'show', '--json', ...(agent === undefined ? [] : ['--agent', String(agent)])]);
    expect(shown.exitCode, shown.stderr).toBe(0);
    return JSON.parse(shown.stdout) as Shown;
  };
  const config = () => readFileSync(path.join(fx.workspace, 'devkit.yml'), 'utf8');

  it('a new workspace has the github and jvm presets; an allow list from before presets stays the whole policy', async () => {
    expect(await show()).toMatchObject({ presets: ['github', 'jvm'], ports: [443] });
    expect((await show()).allow).toEqual(expect.arrayContaining(['github.com', 'githubusercontent.com', 'repo1.maven.org']));
    appendFileSync(path.join(fx.workspace, 'devkit.yml'), 'egress:\n  allow: [example.org]\n');
    expect(await show()).toMatchObject({ presets: [], allow: ['example.org'] });
    // An edit writes the presets in force out, so the file keeps saying the same.
    expect((await run(['policy', 'allow', 'example.net'])).exitCode).toBe(0);
    expect(config()).toMatch(/egress:\n\s+allow:\n\s+- example\.org\n\s+- example\.net\n\s+presets: \[\]/);
    expect(await show()).toMatchObject({ presets: [], allow: ['example.net', 'example.org'] });
  });

  it("denies a preset's domain for every agent and allows it back; per agent, takes a global domain away and gives it back", async () => {
    expect((await run(['policy', 'deny', 'repo1.maven.org'])).stdout).toBe(
      'denied repo1.maven.org for every agent; 0 running sidecar(s) reloaded',
    );
    expect((await show()).allow).not.toContain('repo1.maven.org');
    expect(config()).toMatch(/deny:\n\s+- repo1\.maven\.org/);
    expect((await run(['policy', 'allow', 'repo1.maven.org'])).exitCode).toBe(0);
    expect((await show()).allow).toContain('repo1.maven.org');
    expect(config()).not.toMatch(/deny|allow:/); // back from the preset alone: nothing listed

    expect((await run(['policy', 'deny', 'github.com', '--agent', '3'])).stdout).toBe(
      'denied github.com for agent3; 0 running sidecar(s) reloaded',
    );
    expect((await show(3)).allow).not.toContain('github.com');
    expect((await show(2)).allow).toContain('github.com');
    expect((await show()).allow).toContain('github.com');
    expect((await run(['policy', 'deny', 'github.com', '--agent', '3'])).stdout).toBe(
      'github.com was not allowed for agent3; nothing changed',
    );
    expect((await run(['policy', 'allow', 'github.com', '--agent', '3'])).exitCode).toBe(0);
    expect((await show(3)).allow).toContain('github.com');
    expect(config()).not.toMatch(/agent3/);
  });

  it('policy ports allow and deny, for every agent and for one', async () => {
    expect((await run(['policy', 'ports', 'allow', '22'])).stdout).toBe('allowed port 22 for every agent; 0 running sidecar(s) reloaded');
    expect((await run(['policy', 'ports', 'allow', '22'])).stdout).toBe('port 22 was already allowed for every agent; nothing changed');
    expect((await run(['policy', 'ports', 'deny', '443', '--agent', '2'])).exitCode).toBe(0);
    expect((await run(['policy', 'ports', 'allow', '8443', '--agent', '3'])).exitCode).toBe(0);
    expect((await show()).ports).toEqual([22, 443]);
    expect((await show(2)).ports).toEqual([22]);
    expect((await show(3)).ports).toEqual([22, 443, 8443]);
    expect(config()).toMatch(/agent2:\n\s+denyPorts:\n\s+- 443/);
  });

  it('lists the presets, marking those in force', async () => {
    const listed = await run(['policy', 'presets']);
    expect(listed.exitCode).toBe(0);
    expect(listed.stdout.split('\n').filter((line) => /^[* ] [a-z]+ {2,}\S/.test(line))).toEqual([
      expect.stringMatching(/^\* github /),
      expect.stringMatching(/^\* jvm /),
      expect.stringMatching(/^ {2}npm /),
      expect.stringMatching(/^ {2}claude /),
      expect.stringMatching(/^ {2}codex /),
    ]);
  });

  it.each([
    [['policy', 'ports', 'allow', '70000'], /^devkit: PORT must be a port from 1 to 65535, got "70000"$/],
    [['policy', 'ports', 'deny', 'ssh'], /^devkit: PORT must be a port from 1 to 65535, got "ssh"$/],
    [['policy', 'ports', 'allow', '22', '--agent', '0'], /--agent K must be/],
  ])('bad input %j: exit 2, one line, nothing changed', async (args, message) => {
    const before = snapshot(fx.workspace);
    expectRefused(await run(args), message, { unchanged: { dir: fx.workspace, before } });
  });

  it.each([
    [
      'an unknown preset',
      '  presets: [github, maven]\n',
      /'egress.presets' entry "maven" is not a preset \(known: github, jvm, npm, claude, codex\)/,
    ],
    [
      'a port list that is not one',
      '  agents:\n    agent2:\n      denyPorts: 443\n',
      /'egress.agents.agent2.denyPorts' must be a list of ports/,
    ],
  ])('devkit.yml with %s is refused with one line', async (_what, section, message) => {
    writeFileSync(path.join(fx.workspace, 'devkit.yml'), `${config()}egress:\n${section}`);
    expectRefused(await run(['policy', 'show']), message);
  });
});
