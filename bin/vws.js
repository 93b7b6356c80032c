#!/usr/bin/env node
// Runs the compiled CLI: `npm ci` (through the prepare script) and `npm run build` compile src/
// into dist/. Tests and development run the TypeScript itself through tsx.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(`vws: ${entry.pathname} is missing: run npm run build (npm ci runs it too)\n`);
  process.exit(2);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
