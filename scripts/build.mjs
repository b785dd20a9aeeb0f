#!/usr/bin/env node
// Builds dist/ from src/: tsc checks the types, esbuild bundles. Bundling is
// for start-up time, measured against docker, docker compose and git
// (scripts/bench-*.mjs):
// - devkit's own code and commander make one CommonJS file, dist/main.cjs.
//   Node 20 loads one CommonJS file faster than the same code as ES modules
//   (its ES module loader costs about 10 ms a run here, and importing a
//   built-in module as an ES module runs every lazy getter it has: node:crypto
//   brought in webcrypto, node:fs brought in readline). A command's code
//   reached through `await import()` still runs only when that command does.
// - The big libraries (execa, yaml, handlebars) are bundled once each into
//   dist/vendor/, and required from there only by the code that uses them:
//   parsing them on every run would cost more than a `git status`.
// - exec-cd, the hot path, has a bundle of its own (dist/exec-cd.cjs).
// - dockerode (CommonJS with optional native parts, loaded only to build
//   images) stays a package.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

execFileSync('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit'], { stdio: 'inherit' });
rmSync('dist', { recursive: true, force: true });

/**
 * Each vendored library, and what devkit imports of it: named exports (ES
 * module packages), or the package's module.exports as its default (as Node
 * gives a CommonJS package to `import X from`).
 */
const VENDORED = { execa: 'named', yaml: 'named', handlebars: 'module.exports' };
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  // import.meta.url, as CommonJS has it (src/install.ts finds templates/ by it).
  inject: ['scripts/cjs-import-meta.js'],
  define: { 'import.meta.url': 'importMetaUrl' },
};

// Each library as one CommonJS file exporting what the package does.
await Promise.all(
  Object.entries(VENDORED).map(([name, exports]) =>
    build({
      ...common,
      stdin: {
        contents: exports === 'named' ? `export * from '${name}';\n` : `module.exports = require('${name}');\n`,
        resolveDir: '.',
        loader: 'js',
      },
      outfile: `dist/vendor/${name}.cjs`,
    }),
  ),
);

/** Imports of a vendored library become a require of its file in dist/vendor/. */
const vendored = {
  name: 'vendored',
  setup(bundler) {
    bundler.onResolve({ filter: new RegExp(`^(${Object.keys(VENDORED).join('|')})$`) }, (args) => ({
      path: `./vendor/${args.path}.cjs`,
      external: true,
    }));
  },
};

await build({ ...common, entryPoints: ['src/main.ts'], outfile: 'dist/main.cjs', external: ['dockerode'], plugins: [vendored] });
await build({ ...common, entryPoints: ['src/exec-cd-main.ts'], outfile: 'dist/exec-cd.cjs' });
