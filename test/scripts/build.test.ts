// scripts/build.mjs, which compiles src/ into dist/ for bin/vws.js: on a small tree of its own, and
// on the real one that `npm test` built first.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { root } from '../support/vws-bin.ts';

const build = join(root, 'scripts/build.mjs');

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath ?? e.path, e.name))).sort();
}

test('a module compiled to dist/ imports its neighbours, loads them lazily, and reads files beside it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-build-'));
  const tree: Record<string, string> = {
    'cli/main.ts': [
      "import { readFileSync } from 'node:fs';",
      "import { greet } from '../lib/greet.ts';",
      "import type { Shape } from './shape.ts';",
      "const shape: Shape = { sides: 3 };",
      "const data = readFileSync(new URL('./data.txt', import.meta.url), 'utf8').trim();",
      "const { later } = await import('../lib/later.ts');",
      'console.log(greet(data), shape.sides, later);',
    ].join('\n'),
    'cli/shape.ts': 'export interface Shape { sides: number }',
    'cli/data.txt': 'assets\n',
    'lib/greet.ts': 'export const greet = (who: string): string => `hello ${who}`;',
    'lib/later.ts': 'export const later: number = 42;',
    'lib/greet.test.ts': "throw new Error('a test is not built');",
  };
  for (const [path, text] of Object.entries(tree)) {
    mkdirSync(dirname(join(dir, 'src', path)), { recursive: true });
    writeFileSync(join(dir, 'src', path), text);
  }
  const built = spawnSync(process.execPath, [build, join(dir, 'src'), join(dir, 'dist')], { encoding: 'utf8' });
  assert.equal(built.status, 0, built.stderr);
  assert.deepEqual(files(join(dir, 'dist')), ['cli/data.txt', 'cli/main.js', 'cli/shape.js', 'lib/greet.js', 'lib/later.js']);
  const run = spawnSync(process.execPath, [join(dir, 'dist/cli/main.js')], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, 'hello assets 3 42\n');
  assert.match(readFileSync(join(dir, 'dist/cli/main.js'), 'utf8'), /import\("\.\.\/lib\/later\.js"\)/);
});

test('the real dist/ has a module for every source module, and none imports a .ts file', () => {
  const sources = files(join(root, 'src')).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  const compiled = files(join(root, 'dist'));
  assert.deepEqual(sources.map((f) => f.replace(/\.ts$/, '.js')).filter((f) => !compiled.includes(f)), []);
  for (const f of compiled.filter((x) => x.endsWith('.js'))) {
    assert.doesNotMatch(readFileSync(join(root, 'dist', f), 'utf8'), /from "\.[^"]*\.ts"|import\("\.[^"]*\.ts"\)/, f);
  }
  assert.ok(existsSync(join(root, 'dist/cli/main.js')));
});
