import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The layering of src/, read from its import statements: no two top-level
 * folders import each other (directly or round a longer loop), and no command
 * reaches into another command's run module (what two commands share lives in
 * a domain module).
 */

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Every module a file imports (static, re-exports, type-only and dynamic), as files under src/. */
export function importsOf(file: string, text: string): string[] {
  const specifiers = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)'(\.[^']+)'/gm)].map((match) => match[1] ?? '');
  return specifiers.map((specifier) => path.resolve(path.dirname(file), specifier).replace(/\.js$/, '.ts'));
}

/** The top-level part of src/ a file belongs to: its folder, or the file itself for files directly in src/. */
function topLevel(file: string): string {
  const [first, ...rest] = path.relative(SRC, file).split(path.sep);
  return rest.length === 0 ? (first ?? '') : `${first ?? ''}/`;
}

/** Loops in a graph (Tarjan's strongly connected components of more than one node, or a node that reaches itself). */
export function loops(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node) ?? 0);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) ?? 0, index.get(next) ?? 0));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop();
        if (member === undefined) break;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || graph.get(node)?.has(node) === true) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

const files = sourceFiles(SRC);
const edges = files.flatMap((file) => importsOf(file, readFileSync(file, 'utf8')).map((target) => ({ from: file, to: target })));

describe('the layering of src/', () => {
  it('reads the imports it checks: every relative import names a file that exists', () => {
    const known = new Set(files);
    expect(edges.length).toBeGreaterThan(files.length);
    expect(edges.filter((edge) => !known.has(edge.to)).map((edge) => `${path.relative(SRC, edge.from)} -> ${edge.to}`)).toEqual([]);
  });

  it('has no import loop between top-level folders', () => {
    const graph = new Map<string, Set<string>>();
    const via = new Map<string, string>();
    for (const { from, to } of edges) {
      const [a, b] = [topLevel(from), topLevel(to)];
      if (a === b) continue;
      graph.set(a, (graph.get(a) ?? new Set()).add(b));
      via.set(`${a} -> ${b}`, `${path.relative(SRC, from)} imports ${path.relative(SRC, to)}`);
    }
    const found = loops(graph).map((loop) => ({
      loop,
      imports: [...via].filter(([edge]) => loop.some((a) => loop.some((b) => edge === `${a} -> ${b}`))).map(([, why]) => why),
    }));
    expect(found).toEqual([]);
  });

  it("has no command importing another command's run module", () => {
    // Only a command's registration (command.ts, or stack-command.ts for up, down and ps) loads run modules, and only of commands below it.
    const registers = (from: string, to: string): boolean =>
      /(^|-)command\.ts$/.test(path.basename(from)) && to.startsWith(`${path.dirname(from)}${path.sep}`);
    const crossing = edges
      .filter(({ from, to }) => path.basename(to) === 'run.ts' && !registers(from, to))
      .map(({ from, to }) => `${path.relative(SRC, from)} imports ${path.relative(SRC, to)}`);
    expect(crossing).toEqual([]);
  });
});

describe('the checks themselves', () => {
  it('find a loop round three folders, and none in a chain', () => {
    const graph = (pairs: string[]): Map<string, Set<string>> => {
      const made = new Map<string, Set<string>>();
      for (const pair of pairs) {
        const [a = '', b = ''] = pair.split('>');
        made.set(a, (made.get(a) ?? new Set()).add(b));
      }
      return made;
    };
    expect(loops(graph(['a/>b/', 'b/>c/', 'c/>a/', 'c/>d/']))).toEqual([['a/', 'b/', 'c/']]);
    expect(loops(graph(['a/>b/', 'b/>c/', 'a/>c/']))).toEqual([]);
  });

  it('see static, type-only, re-exported and dynamic imports', () => {
    const text = [
      "import { a } from '../x/a.js';",
      "import type { B } from './b.js';",
      "export { c } from '../c/c.js';",
      "const d = await import('../d/run.js');",
      "import './side-effect.js';",
      "import path from 'node:path';",
    ].join('\n');
    expect(importsOf('/s/commands/one/run.ts', text)).toEqual([
      '/s/commands/x/a.ts',
      '/s/commands/one/b.ts',
      '/s/commands/c/c.ts',
      '/s/commands/d/run.ts',
      '/s/commands/one/side-effect.ts',
    ]);
  });
});
