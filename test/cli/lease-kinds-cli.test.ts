// Every lease kind through `vws sim`, from the XML LWF fixture, and `--at/--quote`.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bin, root } from '../support/vws-bin.ts';

const checker = new URL('../../../shared/tools/validate-schedule', import.meta.url).pathname;
const fixture = join(root, 'test/fixtures/lease-kinds.lwf');

function vws(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: root });
}

test('every lease kind is read from LWF, scheduled, and exported with its kind; the shared checker accepts it', () => {
  const schedule = join(mkdtempSync(join(tmpdir(), 'vws-kinds-')), 's.jsonl');
  const r = vws('sim', '--trace', fixture, '--nodes', '4', '--schedule', schedule);
  assert.equal(r.status, 0, r.stderr);
  const leases = readFileSync(schedule, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l));
  assert.deepEqual(leases.map((l) => [l.id, l.kind, l.outcome]), [
    ['batch', 'best-effort', 'completed'], ['meeting', 'exact', 'completed'], ['storm', 'urgent', 'completed'], ['probe', 'immediate', 'completed'],
    ['report', 'deadline', 'completed'], ['class#1', 'periodic', 'completed'], ['class#2', 'periodic', 'completed'], ['class#3', 'periodic', 'completed'],
  ]);
  const storm = leases.find((l) => l.id === 'storm');
  assert.equal(storm.segments[0].start, 1200 + 21, 'the urgent lease starts once the batch lease has suspended (1024 MiB at 50 MB/s)');
  assert.equal(leases.find((l) => l.id === 'report').deadline, 8 * 3600);
  const check = spawnSync('python3', [checker, schedule, '--nodes', '4'], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
});

test('vws sim --at --quote answers what the scheduler would do then, with alternatives', () => {
  const r = vws('sim', '--trace', fixture, '--nodes', '4', '--at', '00:30:00', '--quote', '{"kind":"exact","start":"01:00:00","duration":"01:00:00","nodes":4}', '--json');
  assert.equal(r.status, 0, r.stderr);
  const q = JSON.parse(r.stdout);
  assert.equal(q.ok, false);
  assert.equal(q.reason, 'insufficient-capacity');
  assert.ok(q.earliestStart > 3600);
  assert.deepEqual(q.alternatives.map((a: { kind: string; start: number }) => [a.kind, a.start]), [['later-start', 7200], ['fewer-nodes', 3600]]);
  const text = vws('sim', '--trace', fixture, '--nodes', '4', '--at', '1800', '--quote', '{"kind":"exact","start":"01:00:00","duration":"01:00:00","nodes":4}');
  assert.match(text.stdout, /would be refused \(insufficient-capacity\)/);
  assert.match(text.stdout, /earliest start that works: \d+ s/);
});

test('a bad --quote says what is wrong and exits 2', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--at', '100'], /--at and --quote go together/],
    [['--at', '100', '--quote', '{"kind":"exact","start":200}'], /--quote needs a duration/],
    [['--at', '100', '--quote', '{"kind":"soon","duration":60}'], /--quote kind must be one of/],
    [['--at', '100', '--quote', '{"duration":60,"colour":"red"}'], /unknown field 'colour'/],
    [['--at', 'noon', '--quote', '{"duration":60}'], /--at must be whole seconds or \[DD:\]HH:MM:SS/],
    [['--at', '100', '--quote', 'nope'], /--quote is not JSON/],
  ];
  for (const [args, expected] of cases) {
    const r = vws('sim', '--trace', fixture, '--nodes', '4', ...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, expected);
  }
});
