import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { execa } from 'execa';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEVKIT_BIN = fileURLToPath(new URL('../../bin/devkit', import.meta.url));

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
  return { exitCode: child.exitCode ?? -1, stdout: String(child.stdout), stderr: String(child.stderr) };
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
  return String(child.stdout);
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `devkit-${prefix}-`));
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

export interface WorktreeRecord {
  path: string;
  branch: string | null;
  locked: boolean;
}

/** `git worktree list --porcelain`, as plain records, read with git itself. */
export async function worktreeRecords(primary: string): Promise<WorktreeRecord[]> {
  const text = await git(primary, ['worktree', 'list', '--porcelain']);
  return text
    .trim()
    .split('\n\n')
    .map((block) => {
      const lines = block.split('\n');
      const value = (key: string): string | null => lines.find((line) => line.startsWith(`${key} `))?.slice(key.length + 1) ?? null;
      return {
        path: value('worktree') ?? '',
        branch: value('branch'),
        locked: lines.some((line) => line === 'locked' || line.startsWith('locked ')),
      };
    });
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
