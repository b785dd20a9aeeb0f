#!/usr/bin/env node
// Builds dist/ from src/: tsc checks the types, esbuild bundles. Bundling is
// for start-up time: loading execa, yaml, commander and handlebars as hundreds
// of small ESM files cost about 110 ms a run, measured against docker and
// docker compose (scripts/bench-*.mjs). Code splitting keeps each command's
// run module, loaded on use, in a chunk of its own; dockerode (CommonJS with
// optional native parts, loaded only to build images) stays a package.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

execFileSync('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit'], { stdio: 'inherit' });
rmSync('dist', { recursive: true, force: true });
const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: true, logLevel: 'warning' };
await build({
  ...common,
  entryPoints: ['src/main.ts'],
  outdir: 'dist',
  splitting: true,
  format: 'esm',
  external: ['dockerode'],
  // Bundled CommonJS dependencies call require(); ESM output needs one made for it.
  banner: { js: "import { createRequire as __devkitRequire } from 'node:module'; const require = __devkitRequire(import.meta.url);" },
});
// exec-cd's way in (src/exec-cd-main.ts), one CommonJS file: it is timed against
// `docker exec`, and Node 20 starts CommonJS faster than ESM.
await build({ ...common, entryPoints: ['src/exec-cd-main.ts'], outfile: 'dist/exec-cd.cjs', format: 'cjs' });
