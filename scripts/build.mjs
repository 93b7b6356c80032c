#!/usr/bin/env node
// Compiles src/ into dist/ for bin/vws.js: one JavaScript file per TypeScript file, in the same
// folders, so that a module's import.meta.url and the files it finds beside it (../../package.json
// from src/cli/) resolve the same from dist/ as from src/. esbuild only strips types (tsc --noEmit
// is the type check), which takes a fraction of a second: `npm test` rebuilds every time, so the
// tests never run a stale dist/. Non-TypeScript files under src/ are copied as they are.

import { build } from 'esbuild';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = join(dirname(new URL(import.meta.url).pathname), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');

/** Every file under `dir`, as paths relative to it. */
function filesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath ?? e.path, e.name)));
}

const files = filesUnder(src);
const sources = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'));
const assets = files.filter((f) => !f.endsWith('.ts'));

/**
 * Bundling with every import left external is how esbuild rewrites import paths: relative imports
 * keep their module but end in .js (the sources name their .ts files, as Node's type stripping and
 * tsx expect), and packages stay imports of node_modules.
 */
const relativeImportsToJs = {
  name: 'relative-imports-to-js',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      if (!args.path.endsWith('.ts')) throw new Error(`${relative(root, args.importer)}: import '${args.path}' must name its .ts file`);
      return { path: args.path.replace(/\.ts$/, '.js'), external: true };
    });
  },
};

rmSync(dist, { recursive: true, force: true });
await build({
  entryPoints: sources.map((f) => join(src, f)),
  outdir: dist,
  outbase: src,
  bundle: true,
  packages: 'external',
  plugins: [relativeImportsToJs],
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
});
for (const f of assets) {
  mkdirSync(dirname(join(dist, f)), { recursive: true });
  cpSync(join(src, f), join(dist, f));
}
