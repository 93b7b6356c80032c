// vws account set|list|statement against a real `vws serve` (issue 17, item 3): an administrator
// grants a group an allocation, leases for the group are charged to it and refused beyond it,
// and the statement comes as a table, as CSV and as JSON with the same records.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { apiCall, BOOTSTRAP_TOKEN, freePort, startServer } from './real-server.ts';
import { spawnSync } from 'node:child_process';
import { bin, root } from '../../support/vws-bin.ts';

test('an allocation granted with vws account set is spent by the group\'s leases and shown by vws account list and statement', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-account-'));
  const server = await startServer(join(dir, 'data'), await freePort());
  const env = { ...process.env, VWS_SERVER: server.url, VWS_TOKEN: BOOTSTRAP_TOKEN, VWS_CONFIG: join(dir, 'config.json') };
  const vws = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: root, env, encoding: 'utf8' });
  try {
    const me = (await apiCall(server, BOOTSTRAP_TOKEN, 'GET', '/v1/whoami')).body.id as string;
    assert.equal((await apiCall(server, BOOTSTRAP_TOKEN, 'POST', '/v1/groups', { name: 'lab' })).status, 201);
    assert.equal((await apiCall(server, BOOTSTRAP_TOKEN, 'POST', '/v1/groups/lab/members', { user: me })).status, 201);
    const set = vws('account', 'set', 'lab', '--allocation', '3', '--period', 'month');
    assert.equal(set.status, 0, set.stderr);
    assert.match(set.stdout, /^group lab: 3 per month \(terms version 1\)$/m);
    const create = (nodes: string) => vws('lease', 'create', '--group', 'lab', '--nodes', nodes, '--cpu', '1', '--memory', '512', '--duration', '1h');
    assert.equal(create('2').status, 0);
    const refused = create('2');
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /group lab's account has 1\.00 SU left of its 3/);
    const list = vws('account', 'list');
    assert.match(list.stdout, /^lab\s+\d{4}-\d{2}\s+3\s+0\.00\s+2\.00\s+1\.00$/m);
    const table = vws('account', 'statement', 'lab');
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^account lab, \d{4}-\d{2} /m);
    const json = JSON.parse(vws('account', 'statement', 'lab', '--json').stdout);
    assert.deepEqual([json.allocation, json.committed], [3, 2]);
    const csv = vws('account', 'statement', 'lab', '--csv').stdout.trim().split('\n');
    assert.equal(csv[0], 'globalJobId,localUserId,group,queue,status,machineName,nodeCount,processors,memoryMiB,startTime,endTime,wallDuration,cpuDuration,charge,dollars,unit');
    // The lease may start between two reads, which adds its usage record: the CSV is read between two JSON reads.
    const after = JSON.parse(vws('account', 'statement', 'lab', '--json').stdout);
    assert.ok(csv.length - 1 >= json.records.length && csv.length - 1 <= after.records.length, `one CSV line per usage record: ${csv.length - 1} lines, ${json.records.length} then ${after.records.length} records`);
    const bad = vws('account', 'statement', 'lab', '--period', 'December');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /period/);
  } finally {
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
