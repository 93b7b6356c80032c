// vws sim-pilots: a batch log and VM leases sharing a cluster through pilots, run through the
// built command line on a small fixture; its export passes the shared checker; bad input is an
// error naming the file (and line) with exit code 2.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { validateSchedule } from '../support/validate-schedule.ts';
import { bin, root } from '../support/vws-bin.ts';

const fixtures = join(root, 'test/fixtures/pilots');
const base = ['--batch', join(fixtures, 'batch.swf'), '--vms', join(fixtures, 'vms.swf'), '--nodes', '4'];

function vws(...args: string[]) {
  return spawnSync(process.execPath, [bin, 'sim-pilots', ...args], { encoding: 'utf8', cwd: root });
}

test('vws sim-pilots prints the batch delay and the VM work, as a table and as JSON, and writes an export the shared checker accepts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-pilots-cli-'));
  try {
    const table = vws(...base, '--pilots', join(fixtures, 'policy.json'));
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^batch mean wait\s+\d+ s \(batch alone \d+ s, [+-][\d.]+%\)$/m);
    assert.match(table.stdout, /^VM leases completed\s+3 of 3/m);
    const schedule = join(dir, 's.jsonl');
    const json = vws(...base, '--pilots', join(fixtures, 'policy.json'), '--json', '--schedule', schedule);
    assert.equal(json.status, 0, json.stderr);
    const out = JSON.parse(json.stdout);
    assert.equal(out.vm.completed, 3);
    assert.equal(out.batch.jobs, 4);
    assert.ok(out.batch.longestHandover <= 120, 'no batch job waits longer than the grace time for a pilot');
    assert.ok(out.pilots.preempted > 0 && out.vm.suspensions > 0, 'the fixture has batch jobs preempt pilots with VMs on them');
    assert.equal(Math.round(out.vm.workNodeHours * 3600), 2 * 5000 + 900 + 3 * 2400, 'the VM leases did their real work');
    const check = validateSchedule(readFileSync(schedule, 'utf8'), ['--nodes', '4']);
    assert.equal(check.status, 0, check.output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad policy file, a malformed trace line and a lease no pilots could hold are errors naming the file, exit code 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-pilots-cli-'));
  try {
    let files = 0;
    const policy = (text: string): string => {
      const file = join(dir, `p${++files}.json`);
      writeFileSync(file, text);
      return file;
    };
    const good = { maxPilots: 4, nodesPerPilot: 1, timeLimitSeconds: 7200, idleTimeoutSeconds: 300, graceSeconds: 120 };
    const cases: Array<[string[], RegExp]> = [
      [['--pilots', policy('{\n  "maxPilots": 4,\n  oops\n}')], /p\w+\.json:3: not JSON/],
      [['--pilots', policy(JSON.stringify({ ...good, partition: 'low' }))], /p\w+\.json: unknown key 'partition'; a pilot policy has maxPilots, /],
      [['--pilots', policy(JSON.stringify({ ...good, graceSeconds: undefined }))], /p\w+\.json: missing graceSeconds/],
      [['--pilots', policy(JSON.stringify({ ...good, maxPilots: 0 }))], /p\w+\.json: maxPilots must be a whole number >= 1, got 0/],
      [['--pilots', join(dir, 'none.json')], /--pilots .*none\.json: cannot read it \(ENOENT\)/],
      [['--pilots', policy(JSON.stringify({ ...good, maxPilots: 2 }))], /VM lease 3 asks for 3 nodes; at most 2 pilots' nodes run at once/],
    ];
    for (const [args, message] of cases) {
      const r = vws(...base, ...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    }
    const seven = vws('--batch', join(root, 'test/fixtures/seven-fields.swf'), '--vms', join(fixtures, 'vms.swf'), '--pilots', join(fixtures, 'policy.json'), '--nodes', '4');
    assert.equal(seven.status, 2);
    assert.match(seven.stderr, /seven-fields\.swf:\d+: expected 18 whitespace-separated SWF fields/);
    const missing = vws('--vms', join(fixtures, 'vms.swf'), '--pilots', join(fixtures, 'policy.json'));
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--batch FILE is required/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
