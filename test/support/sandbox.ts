import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { execa } from 'execa';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The CLI under test; DEVKIT_TEST_BIN points the suite at another build (a released devkit, to see a test fail there). */
export const DEVKIT_BIN = process.env.DEVKIT_TEST_BIN ?? fileURLToPath(new URL('../../bin/devkit', import.meta.url));

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  env?: Record<string, string>;
  input?: string;
}

/** Runs the built devkit CLI as a user would, and returns what they would see. */
export async function devkit(args: readonly string[], options: RunOptions): Promise<RunResult> {
  const child = await execa(DEVKIT_BIN, args, {
    cwd: options.cwd,
    env: { DEVKIT_DEBUG: '', ...options.env },
    reject: false,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
  });
  return { exitCode: child.exitCode ?? -1, stdout: child.stdout, stderr: child.stderr };
}

/** A shell script run as agent K inside its own container (`devkit -p agentK exec-cd K . sh -c SCRIPT`). */
export function inAgentContainer(workspace: string, k: number, script: string): Promise<RunResult> {
  return devkit(['-p', `agent${k}`, 'exec-cd', String(k), '.', 'sh', '-c', script], { cwd: workspace });
}

/**
 * What a refused command must look like: exit 2 (bad input) or 1, one line on
 * stderr starting `devkit: ` and matching `message`, nothing on stdout (with
 * `json`, only the same error as JSON), and
 * (given a snapshot of the dev root from before) nothing changed.
 */
export function expectRefused(
  result: RunResult,
  message: RegExp,
  options: { exitCode?: number; unchanged?: { dir: string; before: Map<string, string> }; json?: boolean } = {},
): void {
  const exitCode = options.exitCode ?? 2;
  // Under --json the one thing on stdout is the error as JSON, saying the same as stderr.
  const stdout = options.json === true ? (JSON.parse(result.stdout) as unknown) : result.stdout;
  const error = options.json === true ? { error: { message: result.stderr.trimEnd().replace(/^devkit: /, ''), exitCode } } : '';
  expect({ exitCode: result.exitCode, stdout }).toEqual({ exitCode, stdout: error });
  expect(result.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^devkit: /)]);
  expect(result.stderr).toMatch(message);
  if (options.unchanged !== undefined) expect(snapshot(options.unchanged.dir)).toEqual(options.unchanged.before);
}

const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@localhost',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@localhost',
};

/** Plain git for test set-up and checks, with a fixed identity. */
export async function git(cwd: string, args: readonly string[], env: Record<string, string> = {}): Promise<string> {
  const child = await execa('git', args, { cwd, env: { ...GIT_IDENTITY, ...env }, stdin: 'ignore' });
  return child.stdout;
}

/** The uid agents run as (and own their copies as): the user's own, or 10000 when the tests run as root (as devkit does). */
export const AGENT_UID = process.getuid?.() === 0 ? 10000 : (process.getuid?.() ?? 1000);

/** A command as agent K would run it on its copy: as the agent's uid, with its HOME. */
function asAgent(command: string, args: readonly string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [command, [...args]];
  return ['setpriv', [`--reuid=${AGENT_UID}`, `--regid=${AGENT_UID}`, '--clear-groups', command, ...args]];
}

/** git in an agent's copy as the agent (its uid), the way its tools would run it. */
export async function agentGit(cwd: string, args: readonly string[], env: Record<string, string> = {}): Promise<string> {
  const [command, full] = asAgent('git', args);
  const child = await execa(command, full, { cwd, env: { ...GIT_IDENTITY, HOME: os.tmpdir(), ...env }, stdin: 'ignore' });
  return child.stdout;
}

/** A file written the way an agent would write it: owned by the agent's uid. */
export function writeAsAgent(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  if (process.getuid?.() === 0) chownSync(file, AGENT_UID, AGENT_UID);
}

const madeTempDirs: string[] = [];

/** A fresh folder in the temp folder, removed after the test file (see removeTempDirs). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `devkit-${prefix}-`));
  madeTempDirs.push(dir);
  return dir;
}

/** Removes every folder tempDir made in this test file (state-dir.ts runs it after each file). */
export function removeTempDirs(): void {
  for (const dir of madeTempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface DevRootFixture {
  /** The workspace folder holding devkit.yml. */
  workspace: string;
  root: string;
  repo: string;
  primary: string;
  cleanup(): void;
}

/**
 * A dev root with a primary clone that has history (`files` files over two
 * commits), and a workspace whose devkit.yml points at it.
 */
export async function makeDevRoot(options: { files?: number; repo?: string } = {}): Promise<DevRootFixture> {
  const base = tempDir('root');
  chmodSync(base, 0o755); // the agents' uid walks in to run git as an agent would
  const repo = options.repo ?? 'app';
  const root = path.join(base, 'dev');
  const primary = path.join(root, repo);
  const workspace = path.join(base, 'workspace');
  mkdirSync(path.join(primary, 'src'), { recursive: true });
  mkdirSync(workspace);
  await git(primary, ['init', '-q', '-b', 'main']);
  const files = options.files ?? 20;
  for (let i = 0; i < files; i++) writeFileSync(path.join(primary, 'src', `file${i}.txt`), `line ${i}\n`);
  writeFileSync(path.join(primary, '.gitignore'), 'target/\n');
  await git(primary, ['add', '-A']);
  await git(primary, ['commit', '-qm', 'first']);
  writeFileSync(path.join(primary, 'README'), 'second\n');
  await git(primary, ['add', '-A']);
  await git(primary, ['commit', '-qm', 'second']);
  const result = await devkit(['init', '--root', root, '--repo', repo], { cwd: workspace });
  if (result.exitCode !== 0) throw new Error(`devkit init failed: ${result.stderr}`);
  return { workspace, root, repo, primary, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

export function agentCopy(fixture: DevRootFixture, index: number): string {
  return index === 1 ? fixture.primary : path.join(fixture.root, `agent${index}`, fixture.repo);
}

export function agentHome(fixture: DevRootFixture, index: number): string {
  return index === 1 ? path.join(fixture.primary, '.devhome-agent1') : path.join(fixture.root, `agent${index}`, `.devhome-agent${index}`);
}

/** devkit's state folder for this test file (test/support/state-dir.ts makes one per file). */
export function stateHome(): string {
  const dir = process.env.DEVKIT_STATE_DIR;
  if (dir === undefined) throw new Error('DEVKIT_STATE_DIR is not set: test/support/state-dir.ts runs first');
  return dir;
}

/** devkit's state folder for one dev root. */
export function rootStateOf(fixture: DevRootFixture): string {
  const roots = path.join(stateHome(), 'roots');
  for (const name of readdirSync(roots)) {
    const record = JSON.parse(readFileSync(path.join(roots, name, 'root.json'), 'utf8')) as { root: string };
    if (record.root === fixture.root) return path.join(roots, name);
  }
  throw new Error(`no devkit state for ${fixture.root}`);
}

/** The agents devkit has records of (K >= 2), sorted. */
export function agentRecords(fixture: DevRootFixture): number[] {
  return readdirSync(path.join(rootStateOf(fixture), 'agents'))
    .map((file) => /^agent(\d+)\.json$/.exec(file)?.[1])
    .filter((index): index is string => index !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** The bare repository holding devkit's backups for this dev root. */
export function backupsRepo(fixture: DevRootFixture): string {
  return path.join(rootStateOf(fixture), 'backups.git');
}

/**
 * Every path under `dir` with its type, mode, size and content hash-ish
 * (the content itself for small files): equal snapshots mean nothing changed.
 */
export function snapshot(dir: string): Map<string, string> {
  const entries = new Map<string, string>();
  const walk = (current: string): void => {
    for (const name of readdirSync(current)) {
      const full = path.join(current, name);
      const stat = lstatSync(full);
      const rel = path.relative(dir, full);
      if (stat.isDirectory()) {
        entries.set(rel, `dir ${stat.mode}`);
        walk(full);
      } else if (stat.isFile()) {
        entries.set(rel, `file ${stat.mode} ${stat.size} ${stat.mtimeMs} ${stat.size < 4096 ? readFileSync(full, 'latin1') : ''}`);
      } else {
        entries.set(rel, `other ${stat.mode}`);
      }
    }
  };
  walk(dir);
  return entries;
}

/**
 * A fresh dev root for each test of the calling suite, with `agents` agents
 * made by `devkit worktrees init`, removed after the test.
 */
export function useDevRoot(options: { agents?: number; files?: number; perSuite?: boolean } = {}): () => DevRootFixture {
  let fixture: DevRootFixture | null = null;
  const setUp = async (): Promise<void> => {
    fixture = await makeDevRoot({ files: options.files });
    if (options.agents !== undefined) {
      const result = await devkit(['worktrees', 'init', String(options.agents)], { cwd: fixture.workspace });
      if (result.exitCode !== 0) throw new Error(`devkit worktrees init failed: ${result.stderr}`);
    }
  };
  const tearDown = (): void => fixture?.cleanup();
  if (options.perSuite === true) {
    beforeAll(setUp);
    afterAll(tearDown);
  } else {
    beforeEach(setUp);
    afterEach(tearDown);
  }
  return () => {
    if (fixture === null) throw new Error('useDevRoot: no dev root outside a test');
    return fixture;
  };
}
