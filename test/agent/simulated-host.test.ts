// The simulated host of vws agent-swarm, called as the service calls an agent: a VM goes through
// its states and is reported as it changes; migrations go from one node of a swarm to another
// through the swarm's exchange, cold and live, and a landing no node of the swarm opened is refused.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SimulatedHost, TransferExchange } from '../../src/agent/simulated-host.ts';
import { DriverError, type VmStatus } from '../../src/drivers/driver.ts';
import type { Workload } from '../../src/drivers/qemu/protocol.ts';

const report = (name: string) => ({ name, cpu: 4, memoryMiB: 8192, diskMiB: 100_000, transferAddress: '127.0.0.1', migrationAddress: '127.0.0.1' });
const delaysMs = { boot: 1, stop: 1, suspend: 1, resume: 1, transfer: 1, prepareImage: 1 };

function workload(id: string, node: string): Workload {
  return { vm: { id, leaseId: id.split('/')[0], index: 0, node, cpu: 1, memoryMiB: 512, image: null, mac: '52:54:00:00:00:01' }, ip: '10.77.0.10', disk: null, boot: null };
}

test('a VM starts, suspends, resumes and stops, each change reported', async () => {
  const host = new SimulatedHost(report('a'), { delaysMs });
  const heard: VmStatus['state'][] = [];
  host.onChange((vm) => heard.push(vm.state));
  const started = await host.start(workload('l1/0', 'a'));
  assert.deepEqual([started.state, started.ip], ['running', '10.77.0.10']);
  assert.equal((await host.start(workload('l1/0', 'a'))).state, 'running', 'a second start of a running VM is a no-op');
  assert.equal((await host.suspend({ id: 'l1/0' })).state, 'suspended');
  await assert.rejects(host.suspend({ id: 'l1/0' }), DriverError);
  assert.equal((await host.resume({ id: 'l1/0' })).ip, '10.77.0.10');
  await host.stop({ id: 'l1/0', graceful: true });
  assert.deepEqual(await host.status(), []);
  assert.deepEqual(heard, ['starting', 'running', 'suspending', 'suspended', 'resuming', 'running', 'stopping', 'stopped']);
});

test('images are checked by reference and cached without their bytes', async () => {
  const host = new SimulatedHost(report('a'), { delaysMs });
  await host.prepareImages({ images: [{ name: 'deb', sha256: 'a'.repeat(64), sizeMiB: 10 }] });
  await assert.rejects(host.prepareImages({ images: [{ name: 'bad', sha256: 'xyz', sizeMiB: 10 }] }), /image 'bad' has no valid sha256/);
});

test('cold and live migrations go between nodes of one swarm, and nowhere else', async () => {
  const exchange = new TransferExchange();
  const a = new SimulatedHost(report('a'), { delaysMs, exchange });
  const b = new SimulatedHost(report('b'), { delaysMs, exchange });
  await a.start(workload('l1/0', 'a'));
  await a.suspend({ id: 'l1/0' });
  const landing = await b.receive({ ...workload('l1/0', 'b') });
  await a.send({ id: 'l1/0', to: landing });
  assert.deepEqual(await a.status(), []);
  assert.deepEqual([(await b.received({ id: 'l1/0' })).state, (await b.status())[0].node], ['suspended', 'b']);

  await b.resume({ id: 'l1/0' });
  const live = await a.incoming(workload('l1/0', 'a'));
  assert.equal(typeof live.diskPort, 'number');
  await b.migrateLive({ id: 'l1/0', to: live });
  assert.deepEqual([(await a.arrived({ id: 'l1/0' })).state, (await b.status()).length], ['running', 0]);

  const other = new SimulatedHost(report('c'), { delaysMs });
  const outside = await other.receive(workload('l2/0', 'c'));
  await a.start(workload('l2/0', 'a'));
  await a.suspend({ id: 'l2/0' });
  await assert.rejects(a.send({ id: 'l2/0', to: outside }), /only to nodes of its own swarm/);
  assert.equal((await a.status()).find((v) => v.id === 'l2/0')?.state, 'suspended', 'a failed send leaves the VM where it was');
  await other.abandon({ id: 'l2/0' });
  assert.deepEqual(await other.status(), []);
});
