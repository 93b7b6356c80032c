// bin/vws.js runs the compiled dist/, which `npm test` builds first (its pretest script). A test
// file run by itself after a change to src/ would otherwise test the code as it was.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const root = new URL('../../', import.meta.url).pathname;
export const bin = join(root, 'bin/vws.js');

function newestSource(dir: string): { file: string; mtimeMs: number } {
  let newest = { file: '', mtimeMs: 0 };
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name.endsWith('.test.ts')) continue;
    const file = join(entry.parentPath ?? entry.path, entry.name);
    const { mtimeMs } = statSync(file);
    if (mtimeMs > newest.mtimeMs) newest = { file, mtimeMs };
  }
  return newest;
}

const built = join(root, 'dist/cli/main.js');
if (!existsSync(built)) throw new Error(`${built} is missing: run npm run build (npm test does it first)`);
const newest = newestSource(join(root, 'src'));
if (newest.mtimeMs > statSync(built).mtimeMs) throw new Error(`dist/ is older than ${newest.file}: run npm run build (npm test does it first)`);
