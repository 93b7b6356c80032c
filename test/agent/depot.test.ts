// Parking and unparking on real directories: a VM parked by one node is taken up by another after
// the first node and its data dir are gone; two nodes opening a new depot at once agree on its id;
// and what a node is asked that it must not do (no depot, an id that is not parked, a path for an
// id, an entry whose files or description do not match) is refused saying so, with nothing lost.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { Depot } from '../../src/agent/depot.ts';
import { fsSyncer } from '../../src/agent/durable.ts';
import { MEMORY_FILE } from '../../src/agent/vm-parts.ts';
import type { QemuHost } from '../../src/agent/qemu-host.ts';
import { DriverError } from '../../src/drivers/driver.ts';
import type { Workload } from '../../src/drivers/qemu/protocol.ts';
import { laySuspended, openNode, VM_ID, workloadOf } from './support/depot-nodes.ts';

const ENTRY = 'lease-7%2f0';
const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

function world(t: { after: (f: () => void) => void }) {
  const root = mkdtempSync(join(tmpdir(), 'vws-depot-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const depot = join(root, 'depot');
  mkdirSync(depot);
  return { root, depot, a: join(root, 'a'), b: join(root, 'b') };
}

async function refused(what: string, op: Promise<unknown>, says: RegExp): Promise<void> {
  await assert.rejects(op, (e: unknown) => {
    assert.ok(e instanceof DriverError, `${what}: a DriverError, got ${String(e)}`);
    assert.match(e.message, says, what);
    return true;
  });
}

test('a VM parked by one node is unparked by another after the first node and its data are gone', async (t) => {
  const w = world(t);
  laySuspended(w.a, workloadOf());
  const memory = sha(join(w.a, 'vms', ENTRY, MEMORY_FILE));
  const a = await openNode(w.a, 'node-a', w.depot);
  const b = await openNode(w.b, 'node-b', w.depot);
  t.after(() => b.close());
  assert.ok(a.node().depot && a.node().depot === b.node().depot, 'both hellos name the same depot');
  assert.deepEqual(await a.park({ id: VM_ID }), { id: VM_ID, node: '@depot', state: 'suspended', ip: null, console: null });
  assert.deepEqual(readdirSync(join(w.a, 'vms')), [], 'node-a forgot it');
  await a.close();
  rmSync(w.a, { recursive: true, force: true });
  assert.deepEqual((await b.status()).map((v) => [v.id, v.node, v.state]), [[VM_ID, '@depot', 'suspended']], 'node-b lists it in the depot');
  assert.equal((await b.workload({ id: VM_ID })).vm.id, VM_ID, 'and knows its workload');
  const here = await b.unpark({ workload: workloadOf(VM_ID, 'node-b') });
  assert.deepEqual([here.node, here.state], ['node-b', 'suspended']);
  assert.equal(sha(join(w.b, 'vms', ENTRY, MEMORY_FILE)), memory, 'the saved memory came whole');
  assert.deepEqual(readdirSync(join(w.depot, 'vms')), [], 'the depot holds nothing more');
  // A restarted node-b still has it suspended.
  await b.close();
  const again = await openNode(w.b, 'node-b', w.depot);
  t.after(() => again.close());
  assert.deepEqual((await again.status()).map((v) => [v.id, v.node, v.state]), [[VM_ID, 'node-b', 'suspended']]);
});

/** The test's VM suspended on node-a and parked, node-a gone; node-b open on the same depot. */
async function parkedFromA(t: TestContext, w: ReturnType<typeof world>): Promise<QemuHost> {
  laySuspended(w.a, workloadOf());
  const a = await openNode(w.a, 'node-a', w.depot);
  await a.park({ id: VM_ID });
  await a.close();
  const b = await openNode(w.b, 'node-b', w.depot);
  t.after(() => b.close());
  return b;
}

test('a stop of a parked VM on any node sharing the depot removes its entry', async (t) => {
  const w = world(t);
  const b = await parkedFromA(t, w);
  await b.stop({ id: VM_ID, graceful: true });
  assert.deepEqual(await b.status(), []);
  assert.deepEqual(readdirSync(join(w.depot, 'vms')), []);
});

test('two nodes opening a new depot at once agree on its id; a depot that does not exist is refused', (t) => {
  const w = world(t);
  const ids = ['n1', 'n2', 'n3'].map((n) => Depot.open(w.depot, n, fsSyncer).id);
  assert.equal(new Set(ids).size, 1);
  assert.match(ids[0], /^[0-9a-f]{32}$/);
  assert.deepEqual(readdirSync(w.depot).sort(), ['depot.json', 'vms'], 'no marker of a node that lost the race is left');
  assert.throws(() => Depot.open(join(w.root, 'nowhere'), 'n1', fsSyncer), /does not exist: make it on the shared filesystem/);
  writeFileSync(join(w.depot, 'depot.json'), '{"id": "../x"}');
  assert.throws(() => Depot.open(w.depot, 'n1', fsSyncer), /holds no id of 32 hex digits/);
});

test('a node without a depot refuses to park or unpark, saying how to give it one', async (t) => {
  const w = world(t);
  laySuspended(w.a, workloadOf());
  const a = await openNode(w.a, 'node-a', undefined);
  t.after(() => a.close());
  assert.equal(a.node().depot, undefined);
  await refused('park', a.park({ id: VM_ID }), /has no depot: start its agent with --depot DIR/);
  await refused('unpark', a.unpark({ workload: workloadOf('other/0') }), /has no depot/);
  assert.deepEqual((await a.status()).map((v) => [v.id, v.state]), [[VM_ID, 'suspended']], 'the VM stays suspended on its node');
});

test('hostile unparks are refused with what is wrong, and nothing is lost', async (t) => {
  const w = world(t);
  const b = await parkedFromA(t, w);
  const entry = join(w.depot, 'vms', ENTRY);
  const wl = (change: (x: Workload) => void = () => undefined): Workload => {
    const x = workloadOf(VM_ID, 'node-b');
    change(x);
    return x;
  };
  const nothingLost = async (what: string): Promise<void> => {
    assert.deepEqual((await b.status()).map((v) => [v.id, v.node]), [[VM_ID, '@depot']], `${what}: still parked, and nothing on node-b`);
    assert.deepEqual(readdirSync(join(w.b, 'vms')), [], `${what}: no landing left on node-b`);
  };

  await refused('an id not in the depot', b.unpark({ workload: workloadOf('lease-8/0', 'node-b') }), /is not parked in the depot/);
  for (const id of ['../../etc/0', '..', 'lease-7/0/../../x', '.hidden/0', 'a/01']) {
    await refused(`the id ${id}`, b.unpark({ workload: workloadOf(id, 'node-b') }), /vm\.id must be a lease id, "\/" and the index of the VM in the lease.*nothing was unparked/);
  }
  await refused('no workload', b.unpark({} as { workload: Workload }), /nothing was unparked/);
  await refused('another memory size', b.unpark({ workload: wl((x) => (x.vm.memoryMiB = 128)) }), /its memory is 64 there, 128 in the service's workload/);
  await refused('another scratch disk', b.unpark({ workload: wl((x) => (x.vm.scratchMiB = 0)) }), /its scratch disk is 64 there, 0/);
  await nothingLost('after refused workloads');

  // Damaged entries: a file that lost its end, then a description of another VM.
  const memory = readFileSync(join(entry, MEMORY_FILE));
  writeFileSync(join(entry, MEMORY_FILE), memory.subarray(0, memory.length - 1));
  await refused('a truncated memory file', b.unpark({ workload: wl() }), /depot file memory\.state has \d+ bytes with sha256 [0-9a-f]{64}, not the \d+ bytes .* it was parked with: the entry is damaged; it stays in the depot/);
  await nothingLost('after a damaged file');
  writeFileSync(join(entry, MEMORY_FILE), memory);
  const parked = readFileSync(join(entry, 'parked.json'), 'utf8');
  writeFileSync(join(entry, 'parked.json'), parked.replaceAll('lease-7/0', 'lease-9/0'));
  await refused('an entry describing another VM', b.unpark({ workload: wl() }), /depot entry is damaged: parked\.json describes "lease-9\/0", not lease-7\/0/);
  writeFileSync(join(entry, 'parked.json'), parked.replace('"memory.state"', '"../../memory"'));
  await refused('an entry naming a path as a file', b.unpark({ workload: wl() }), /lists the files \.\.\/\.\.\/memory, scratch\.qcow2, not the memory\.state, scratch\.qcow2/);
  writeFileSync(join(entry, 'parked.json'), '{"format": 1, "workl');
  await refused('an entry cut short', b.unpark({ workload: wl() }), /has no readable parked\.json/);
  writeFileSync(join(entry, 'parked.json'), parked);
  await nothingLost('after damaged descriptions');

  // Put right, it is taken up whole.
  assert.equal((await b.unpark({ workload: wl() })).node, 'node-b');
  await refused('an unpark of a VM the node has', b.unpark({ workload: wl() }), /already has this VM/);
});
