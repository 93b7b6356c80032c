// `vws sim --plot DIR` through the compiled command: three SVG files that a parser other than ours
// (Python's standard library) reads as SVG, the same bytes on a second run, and a plot directory
// that cannot be one refused before the simulation, naming what to give.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bin, root } from '../support/vws-bin.ts';

const trace = join(root, 'test/fixtures/small.swf');
const FILES = ['queue.svg', 'utilization.svg', 'waits-by-size.svg'];

function vws(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: root });
}

/** Each file's root tag and title as Python's ElementTree reads them. */
function parsedByPython(files: readonly string[]): Array<{ tag: string; role: string; title: string }> {
  const script = `
import json, sys
import xml.etree.ElementTree as ET
out = []
for path in sys.argv[1:]:
    root = ET.parse(path).getroot()
    out.append({"tag": root.tag, "role": root.get("role"), "title": root.find("{http://www.w3.org/2000/svg}title").text})
print(json.dumps(out))
`;
  const r = spawnSync('python3', ['-c', script, ...files], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('vws sim --plot DIR writes three SVG charts into a directory it makes, the same bytes each run, beside the usual table', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-plot-'));
  const first = join(dir, 'a', 'charts');
  const run = vws('sim', '--trace', trace, '--nodes', '8', '--plot', first);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^leases\s+\d+$/m, 'the metrics table as without --plot');
  assert.deepEqual(readdirSync(first).sort(), FILES);
  assert.deepEqual(parsedByPython(FILES.map((f) => join(first, f))), [
    { tag: '{http://www.w3.org/2000/svg}svg', role: 'img', title: 'Best-effort leases waiting' },
    { tag: '{http://www.w3.org/2000/svg}svg', role: 'img', title: 'Utilization of the pool' },
    { tag: '{http://www.w3.org/2000/svg}svg', role: 'img', title: 'Waits of best-effort leases by size' },
  ]);
  const second = join(dir, 'b');
  assert.equal(vws('sim', '--trace', trace, '--nodes', '8', '--json', '--plot', second).status, 0);
  for (const f of FILES) assert.equal(readFileSync(join(second, f), 'utf8'), readFileSync(join(first, f), 'utf8'), f);
});

test('vws sim --plot with cells draws the whole pool', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-plot-'));
  const run = vws('sim', '--trace', trace, '--cells', '2', '--nodes', '16', '--plot', dir);
  assert.equal(run.status, 0, run.stderr);
  assert.match(readFileSync(join(dir, 'utilization.svg'), 'utf8'), /<desc>The share of the pool&#39;s 16 CPUs held/);
});

test('a --plot that is a file, or one with --at/--quote, is refused before the run, saying what to give', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-plot-'));
  const file = join(dir, 'taken');
  writeFileSync(file, 'not a directory');
  const onFile = vws('sim', '--trace', trace, '--plot', file);
  assert.equal(onFile.status, 2);
  assert.equal(onFile.stdout, '');
  assert.match(onFile.stderr, /^vws: --plot .*taken: that is a file, not a directory; give a directory to write utilization\.svg, queue\.svg and waits-by-size\.svg in \(made if missing\)\n/);
  const under = vws('sim', '--trace', trace, '--plot', join(file, 'charts'));
  assert.equal(under.status, 2);
  assert.match(under.stderr, /^vws: --plot .*taken\/charts: cannot make that directory \(part of its path is a file\); give one you can write to\n/);
  const quoting = vws('sim', '--trace', trace, '--plot', dir, '--at', '60', '--quote', '{"kind":"exact","start":120,"duration":60,"nodes":1}');
  assert.equal(quoting.status, 2);
  assert.match(quoting.stderr, /--plot and --at\/--quote do not go together/);
  assert.deepEqual(readdirSync(dir), ['taken'], 'nothing written');
});
