// A node killed (SIGKILL) at the worst points of a park or an unpark loses no VM: restarted on the
// same directories it finds the VM either on itself or whole in the depot, never in both and never
// in neither, and what it left half-made is gone. The node runs in a child process
// (support/depot-crash-child.ts) that kills itself at one fsync.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { laySuspended, openNode, VM_ID, workloadOf } from './support/depot-nodes.ts';

const ENTRY = 'lease-7%2f0';

function world(t: { after: (f: () => void) => void }) {
  const root = mkdtempSync(join(tmpdir(), 'vws-depot-crash-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const depot = join(root, 'depot');
  mkdirSync(depot);
  return { depot, a: join(root, 'a'), b: join(root, 'b') };
}

/** Runs the node in a child that dies at `crashAt` (its `nth` occurrence); resolves once it is dead. */
async function crashDuring(op: 'park' | 'unpark', data: string, node: string, depot: string, crashAt: string, nth = 1): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'support', 'depot-crash-child.ts')], {
    env: { ...process.env, DATA: data, DEPOT: depot, NODE: node, OP: op, CRASH_AT: crashAt, CRASH_NTH: String(nth) }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, s) => resolve(s)));
  assert.equal(signal, 'SIGKILL', `the node was to die at ${crashAt}: ${out}`);
}

const depotNames = (depot: string): string[] => readdirSync(join(depot, 'vms')).sort();

test('killed before the park is committed: the VM is still suspended on its node, the half-made entry is gone', async (t) => {
  const w = world(t);
  laySuspended(w.a, workloadOf());
  await crashDuring('park', w.a, 'node-a', w.depot, `file <depot>/vms/.${ENTRY}.parking-node-a/parked.json.tmp`);
  const a = await openNode(w.a, 'node-a', w.depot);
  t.after(() => a.close());
  assert.deepEqual((await a.status()).map((v) => [v.id, v.node, v.state]), [[VM_ID, 'node-a', 'suspended']]);
  assert.deepEqual(depotNames(w.depot), [], 'no entry, no park directory');
  // And it parks now.
  assert.equal((await a.park({ id: VM_ID })).node, '@depot');
  assert.deepEqual(depotNames(w.depot), [ENTRY]);
});

test('killed right after the park is committed: the node lets the VM go, and another node takes it up', async (t) => {
  const w = world(t);
  laySuspended(w.a, workloadOf());
  await crashDuring('park', w.a, 'node-a', w.depot, 'dir <depot>/vms', 2);
  const a = await openNode(w.a, 'node-a', w.depot);
  t.after(() => a.close());
  assert.deepEqual((await a.status()).map((v) => [v.id, v.node, v.state]), [[VM_ID, '@depot', 'suspended']], 'node-a lists it in the depot only');
  assert.deepEqual(readdirSync(join(w.a, 'vms')), [], "node-a's copy is gone");
  const b = await openNode(w.b, 'node-b', w.depot);
  t.after(() => b.close());
  assert.equal((await b.unpark({ workload: workloadOf(VM_ID, 'node-b') })).node, 'node-b');
});

test('killed once the unparked VM is in place but before the depot let go: the node keeps it, the depot entry goes', async (t) => {
  const w = world(t);
  laySuspended(w.a, workloadOf());
  const a = await openNode(w.a, 'node-a', w.depot);
  await a.park({ id: VM_ID });
  await a.close();
  await crashDuring('unpark', w.b, 'node-b', w.depot, 'dir <data>/vms');
  const b = await openNode(w.b, 'node-b', w.depot);
  t.after(() => b.close());
  assert.deepEqual((await b.status()).map((v) => [v.id, v.node, v.state]), [[VM_ID, 'node-b', 'suspended']]);
  assert.deepEqual(depotNames(w.depot), [], 'the entry and what node-b took are gone');
});

test('killed while the files are being taken: the node has nothing, the depot entry is whole and taken up again', async (t) => {
  const w = world(t);
  laySuspended(w.a, workloadOf());
  const a = await openNode(w.a, 'node-a', w.depot);
  await a.park({ id: VM_ID });
  await a.close();
  await crashDuring('unpark', w.b, 'node-b', w.depot, `file <data>/vms/.${ENTRY}.unparking/memory.state`);
  const b = await openNode(w.b, 'node-b', w.depot);
  t.after(() => b.close());
  assert.deepEqual((await b.status()).map((v) => [v.id, v.node]), [[VM_ID, '@depot']]);
  assert.deepEqual(readdirSync(join(w.b, 'vms')), [], 'the landing directory is gone');
  assert.equal((await b.unpark({ workload: workloadOf(VM_ID, 'node-b') })).state, 'suspended');
  assert.deepEqual(depotNames(w.depot), []);
});
