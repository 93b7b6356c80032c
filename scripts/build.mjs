#!/usr/bin/env node
// Compiles src/ into dist/ for bin/vws.js: one JavaScript file per TypeScript file, in the same
// folders, so that a module's import.meta.url and the files it finds beside it (../../package.json
// from src/cli/) resolve the same from dist/ as from src/. esbuild only strips types (tsc --noEmit
// is the type check), which takes a fraction of a second: `npm test` rebuilds every time, so the
// tests never run a stale dist/. Non-TypeScript files under src/ are copied as they are.

import { build } from 'esbuild';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = join(dirname(new URL(import.meta.url).pathname), '..');
// `node scripts/build.mjs SRC DIST` builds another tree (the build's own test does).
const [src, dist] = process.argv.length > 2 ? process.argv.slice(2, 4).map((p) => resolve(p)) : [join(root, 'src'), join(root, 'dist')];

/** Every file under `dir`, as paths relative to it. */
function filesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath ?? e.path, e.name)));
}

const files = filesUnder(src);
const sources = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'));
const assets = files.filter((f) => !f.endsWith('.ts'));

/**
 * Bundling with every import left external is how esbuild rewrites import paths: a relative import
 * of a .ts file (the sources name their .ts files, as tsx and Node's type stripping expect) becomes
 * one of its .js file, and packages stay imports of node_modules.
 */
const relativeImportsToJs = {
  name: 'relative-imports-to-js',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      // Other files (JSON, .mjs) are copied to dist/ beside their importer, under the same name.
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
// The dashboard's bundle, served at /ui, with the service it belongs to (not for another tree).
if (process.argv.length <= 2) {
  const { buildWeb } = await import('./build-web.mjs');
  await buildWeb();
}
