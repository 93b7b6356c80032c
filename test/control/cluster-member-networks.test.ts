// A cluster member's VmSpec carries its role's networks, so that the QEMU driver's cluster plans
// give it the private NIC and cluster network: leases made through the API on a real SQLite file
// (simulated driver, its starts recorded), then the recorded specs handed to the agent driver with
// its hub replaced by a recorder, as test/drivers/qemu/cluster-plans.test.ts does.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { VmSpec, VmStatus } from '../../src/drivers/driver.ts';
import { AddressBook } from '../../src/drivers/qemu/address-book.ts';
import { AgentDriver } from '../../src/drivers/qemu/agent-driver.ts';
import type { AgentHub } from '../../src/drivers/qemu/agent-hub.ts';
import { ClusterAddressBook } from '../../src/drivers/qemu/cluster-address-book.ts';
import type { Workload } from '../../src/drivers/qemu/protocol.ts';
import type { Store } from '../../src/store/store.ts';
import { apiWorld, lease } from '../api/api-world.ts';
import { cluster } from '../api/cluster-body.ts';

async function startedSpecs(): Promise<{ clusterId: string; plainId: string; specs: VmSpec[] }> {
  const w = await apiWorld(4);
  try {
    const specs: VmSpec[] = [];
    const start = w.driver.start.bind(w.driver);
    w.driver.start = (spec) => {
      specs.push(spec);
      return start(spec);
    };
    const made = await w.call(w.tokens.alice, 'POST', '/v1/leases', cluster());
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const plain = await w.call(w.tokens.bob, 'POST', '/v1/leases', lease({ nodes: 1 }));
    assert.equal(plain.status, 201, JSON.stringify(plain.body));
    for (let round = 0; round < 20 && specs.length < 4; round++) {
      await w.service.idle();
      w.clock.advance(1);
    }
    return { clusterId: made.body.lease.id, plainId: plain.body.lease.id, specs };
  } finally {
    await w.close();
  }
}

test('each VM of a cluster is started on its role\'s networks; a plain lease\'s VM names none', async () => {
  const { clusterId, plainId, specs } = await startedSpecs();
  const byId = new Map(specs.map((s) => [s.id, s]));
  assert.deepEqual(byId.get(`${clusterId}/0`)?.networks, ['public', 'private'], 'the head');
  assert.deepEqual(byId.get(`${clusterId}/1`)?.networks, ['private'], 'worker 0');
  assert.deepEqual(byId.get(`${clusterId}/2`)?.networks, ['private'], 'worker 1');
  const plain = byId.get(`${plainId}/0`);
  assert.ok(plain, `the plain lease's VM started: ${JSON.stringify(specs)}`);
  assert.equal('networks' in plain, false);
});

test('the agent driver gives those specs their private NIC and cluster network: the head both NICs, workers the private one only', async () => {
  const { clusterId, plainId, specs } = await startedSpecs();
  const dir = mkdtempSync(join(tmpdir(), 'vws-member-nets-'));
  try {
    const calls: Workload[] = [];
    const hub = {
      call: (node: string, op: string, args: unknown) => {
        if (op !== 'start') return Promise.resolve(null);
        const w = args as Workload;
        calls.push(w);
        return Promise.resolve<VmStatus>({ id: w.vm.id, node, state: 'running', ip: w.ip, console: null });
      },
    } as unknown as AgentHub;
    const underlays = new Map(['n1', 'n2', 'n3', 'n4'].map((n, i) => [n, `10.98.0.${i + 1}`]));
    const book = new ClusterAddressBook({ range: '10.200.0.0/16', clusterPrefix: 24, vniBase: 10_000 }, join(dir, 'clusters.json'));
    const driver = new AgentDriver({
      hub, store: {} as Store, addresses: new AddressBook('10.77.0.0/24', join(dir, 'addresses.json')),
      clusters: { book, underlayOf: (n) => underlays.get(n) }, stateFile: join(dir, 'vms.json'),
    });
    for (const s of specs) await driver.start(s);
    const of = (id: string): Workload => calls.find((c) => c.vm.id === id)!;
    const head = of(`${clusterId}/0`);
    assert.deepEqual(head.nics?.map((n) => n.network), ['private']);
    assert.notEqual(head.publicNic, false, 'the head keeps its public NIC');
    assert.ok(head.cluster, 'the head joins its cluster network');
    for (const i of [1, 2]) {
      const worker = of(`${clusterId}/${i}`);
      assert.equal(worker.publicNic, false, `worker ${i} has no public NIC`);
      assert.deepEqual(worker.nics?.map((n) => n.network), ['private']);
      assert.equal(worker.cluster?.vni, head.cluster?.vni, 'one cluster network for all members');
      assert.equal(worker.ip, worker.nics?.[0].ip, 'a private-only member is reached at its private address');
    }
    const plain = of(`${plainId}/0`);
    assert.equal(plain.cluster, undefined);
    assert.equal(plain.nics, undefined);
    await driver.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
