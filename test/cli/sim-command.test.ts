import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bin, root } from '../support/vws-bin.ts';

const traces = new URL('../../../shared/traces/', import.meta.url).pathname;
const checker = new URL('../../../shared/tools/validate-schedule', import.meta.url).pathname;

function vws(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: root });
}

test('vws sim prints a readable table, JSON metrics, and an export the shared checker accepts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-cli-'));
  const schedule = join(dir, 's.jsonl');
  const metrics = join(dir, 'm.json');
  const trace = join(root, 'test/fixtures/small.swf');
  const table = vws('sim', '--trace', trace, '--nodes', '8');
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /^leases\s+\d+$/m);
  assert.match(table.stdout, /^mean bounded slowdown\s+[\d.]+$/m);
  const json = vws('sim', '--trace', trace, '--nodes', '8', '--json', '--schedule', schedule);
  assert.equal(json.status, 0, json.stderr);
  const m = JSON.parse(json.stdout);
  for (const key of ['leases', 'completed', 'rejected', 'allBestEffort', 'meanWait', 'meanBoundedSlowdown', 'utilization', 'suspensions', 'migrations', 'preemptions', 'wallSeconds']) {
    assert.equal(typeof m[key], 'number', `metrics.${key}`);
  }
  writeFileSync(metrics, json.stdout);
  const header = JSON.parse(readFileSync(schedule, 'utf8').split('\n')[0]);
  assert.equal(header.format, 'vws.schedule/v1');
  assert.equal(header.nodes.length, 8);
  const check = spawnSync('python3', [checker, schedule, '--nodes', '8', '--metrics', metrics], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
});

test('vws sim with the 30-day trace and injected ARs under suspension passes the shared checker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-cli-'));
  const schedule = join(dir, 's.jsonl');
  const run = vws('sim', '--trace', join(traces, 'blue/30days.swf'), '--inject', join(traces, 'blue/injected-30days/work_20-dur_2h-size_3large.lwf'),
    '--preemption', 'suspend', '--json', '--schedule', schedule);
  assert.equal(run.status, 0, run.stderr);
  writeFileSync(join(dir, 'm.json'), run.stdout);
  const m = JSON.parse(run.stdout);
  assert.equal(m.leases, m.completed + m.rejected);
  assert.ok(m.suspensions > 0, 'ARs in the way of best-effort leases make some suspend');
  const check = spawnSync('python3', [checker, schedule, '--nodes', '144', '--metrics', join(dir, 'm.json')], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
});

test('a malformed trace line is an error naming the file and line, with exit code 2', () => {
  const r = vws('sim', '--trace', join(root, 'test/fixtures/seven-fields.swf'));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /seven-fields\.swf:\d+: /);
  assert.equal(r.stdout, '');
});

test('bad options say what was wrong and what is allowed', () => {
  const missing = vws('sim');
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--trace FILE is required/);
  const badChoice = vws('sim', '--trace', join(root, 'test/fixtures/small.swf'), '--backfill', 'fast');
  assert.equal(badChoice.status, 2);
  assert.match(badChoice.stderr, /--backfill must be one of easy, conservative, none; got 'fast'/);
  const badNumber = vws('sim', '--trace', join(root, 'test/fixtures/small.swf'), '--nodes', 'many');
  assert.equal(badNumber.status, 2);
  assert.match(badNumber.stderr, /--nodes must be a positive integer, got 'many'/);
  const unknown = vws('sim', '--trace', join(root, 'test/fixtures/small.swf'), '--speed', '3');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /^vws: unknown option '--speed'\n\(Did you mean --seed\?\)\nrun `vws sim --help` for the options\n$/);
});

test('an unknown command is refused with the list of commands', () => {
  const r = vws('simulate');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command 'simulate'/);
  assert.match(r.stderr, /; the commands are demo, serve, agent, agent-swarm, sim, /);
});

test('vws sim --cells: the whole 30-day trace with ARs on 4 cells, one export the shared checker accepts with the metrics, and a bad count refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-cli-'));
  const schedule = join(dir, 's.jsonl');
  const metrics = join(dir, 'm.json');
  const args = ['sim', '--trace', join(traces, 'blue/30days.swf'), '--inject', join(traces, 'blue/injected-30days/work_20-dur_3h-size_2medium.lwf'), '--cells', '4'];
  const run = vws(...args, '--json', '--schedule', schedule);
  assert.equal(run.status, 0, run.stderr);
  const m = JSON.parse(run.stdout);
  assert.deepEqual(m.cells.sizes, [36, 36, 36, 36]);
  assert.equal(m.cells.front, 'earliest-start');
  assert.ok(m.cells.tooLarge > 0 && m.rejected >= m.cells.tooLarge, 'ARs and jobs over 36 nodes are refused by the front');
  assert.equal(m.cells.perCell.reduce((a: number, c: { routed: number }) => a + c.routed, 0) + m.cells.tooLarge, m.leases);
  writeFileSync(metrics, run.stdout);
  const check = spawnSync('python3', [checker, schedule, '--nodes', '144', '--metrics', metrics], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  const table = vws(...args, '--front', 'round-robin');
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /^cells\s+4 \(36, 36, 36, 36 nodes\), front round-robin$/m);
  assert.match(table.stdout, /^cell 4\s+36 nodes, \d+ leases, mean wait \d+ s/m);
  const bad = vws('sim', '--trace', join(root, 'test/fixtures/small.swf'), '--cells', '0');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^vws: --cells must be a positive whole number of cells to split the pool into, got '0'\n/);
});
