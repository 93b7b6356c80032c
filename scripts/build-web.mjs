// Bundles the dashboard (web/src, Preact) into web/dist: one script, one stylesheet and the page,
// served by `vws serve` at /ui. Bundled here, at build time, so the browser fetches nothing from
// anywhere else (no CDN), and the page's Content-Security-Policy can allow only its own origin.

import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

const root = join(dirname(new URL(import.meta.url).pathname), '..');

export async function buildWeb(out = join(root, 'web', 'dist')) {
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: { app: join(root, 'web', 'src', 'main.tsx') },
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: out,
    legalComments: 'none',
    logLevel: 'warning',
  });
  await build({ entryPoints: { app: join(root, 'web', 'src', 'style.css') }, bundle: true, minify: true, outdir: out, logLevel: 'warning' });
  copyFileSync(join(root, 'web', 'index.html'), join(out, 'index.html'));
}

if (process.argv[1] === new URL(import.meta.url).pathname) await buildWeb();
