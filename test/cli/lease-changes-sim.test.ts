// Changes in a simulated workload (LWF <change>, vws's own element): made at their instants when
// the scheduler can make them, counted when refused; the export passes the shared checker.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bin, root } from '../support/vws-bin.ts';

const checker = new URL('../../../shared/tools/validate-schedule', import.meta.url).pathname;
const fixture = join(root, 'test/fixtures/lease-changes.lwf');

function vws(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: root });
}

test('a workload\'s changes are made when they can be: extended before and while running, moved, a longer real run; one that collides is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-changes-'));
  const schedule = join(dir, 's.jsonl');
  const r = vws('sim', '--trace', fixture, '--nodes', '4', '--schedule', schedule, '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).changes, { asked: 5, made: 4, refused: { 'insufficient-capacity': 1 } });
  const leases = new Map(readFileSync(schedule, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l)).map((l) => [l.id, l]));
  const runs = (id: string) => leases.get(id).segments.filter((s: { kind: string }) => s.kind === 'run').map((s: { start: number; end: number; nodes: string[] }) => [s.start, s.end, s.nodes]);
  assert.deepEqual(runs('batch'), [[0, 6300, ['n1', 'n2']]], 'the best-effort lease ran its new real duration, 1h45m');
  assert.deepEqual(runs('meeting'), [[1800, 9000, ['n3', 'n4']]], 'extended to 1h30m before it began, then to 2h while it ran');
  assert.deepEqual(runs('class'), [[16200, 19800, ['n1', 'n2', 'n3', 'n4']]], 'moved to 4:30');
  assert.deepEqual(runs('late'), [[10800, 14400, ['n1', 'n2']]], 'its extension over class was refused');
  const check = spawnSync('python3', [checker, schedule, '--nodes', '4'], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  // Split into cells, each change is made in its lease's cell (the class of 4 nodes fits none of 2).
  const cells = vws('sim', '--trace', fixture, '--nodes', '4', '--cells', '2', '--json');
  assert.equal(cells.status, 0, cells.stderr);
  assert.deepEqual(JSON.parse(cells.stdout).changes, { asked: 5, made: 4, refused: { 'wrong-state': 1 } });
  const again = join(dir, 'again.jsonl');
  assert.equal(vws('sim', '--trace', fixture, '--nodes', '4', '--schedule', again).status, 0);
  assert.equal(readFileSync(again, 'utf8'), readFileSync(schedule, 'utf8'), 'deterministic');
});

test('a malformed <change> names its file and line and says what to do', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-changes-bad-'));
  const text = readFileSync(fixture, 'utf8');
  const cases: Array<[string, RegExp]> = [
    ['<change at="00:30:00" duration="02:00:00" realduration="01:45:00"/>', /./],
    ['<change at="00:30:00"/>', /:14: <change> changes nothing; give at least one of duration/],
    ['<change at="00:30:00" colour="red"/>', /:14: unknown attribute colour="\.\.\." in <change>; use at, duration/],
    ['<change duration="02:00:00"/>', /:14: <change> lacks the required attribute at/],
    ['<change at="00:30:00" duration="00:00:00"/>', /:14: duration="\.\.\." in <change> must be longer than 0 s/],
    ['<change at="00:30:00" nodes="two"/>', /:14: nodes="two" in <change> is not a whole number >= 1/],
  ];
  for (const [element, expected] of cases.slice(1)) {
    const file = join(dir, 'w.lwf');
    writeFileSync(file, text.replace(cases[0][0], element));
    const r = vws('sim', '--trace', file, '--nodes', '4');
    assert.equal(r.status, 2, `${element}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, new RegExp(`w\\.lwf${expected.source}`));
  }
});
