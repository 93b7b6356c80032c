// An agent's hello has its own node reconciled, against the report the hello carried: what runs
// there and no lease wants is stopped, and the other agents are not asked again what they run
// (after a takeover 2,000 hellos each made every agent answer: millions of calls).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LeaseRequest } from '../../src/core/types.ts';
import type { VmStatus } from '../../src/drivers/driver.ts';
import { MemoryHost, poolWorld, until } from './support/agent-pool-world.ts';

class CountingHost extends MemoryHost {
  statusCalls = 0;
  override async status(): Promise<VmStatus[]> {
    this.statusCalls++;
    return super.status();
  }
}

const one = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
const be = (id: string): LeaseRequest => ({ id, kind: 'best-effort', arrival: 0, requestedStart: null, duration: 7200, nodes: 1, perNode: one, preemptible: true });

test('a hello reconciles its node from its report: a VM of no lease there is stopped, and the other agents are not asked what they run', async () => {
  const w = await poolWorld();
  try {
    const n1 = new CountingHost('n1');
    const n2 = new CountingHost('n2');
    const first = w.agent(n1);
    await first.connected();
    await w.agent(n2).connected();
    await until('both nodes in the pool', async () => ((await w.store.listNodes()).length === 2 ? true : undefined));
    assert.ok((await w.service.create('alice', null, be('a'))).ok);
    assert.ok((await w.service.create('alice', null, be('b'))).ok);
    await until('a VM on each node', () => (n1.vms.size === 1 && n2.vms.size === 1 ? true : undefined));
    await w.service.idle();

    // n1's agent goes and comes back with a VM the service never started there.
    await first.stop();
    n1.vms.set('ghost/0', { id: 'ghost/0', node: 'n1', state: 'running', ip: null, console: null });
    const asked = n2.statusCalls;
    w.agent(n1);
    await until('the VM of no lease stopped on n1', () => (!n1.vms.has('ghost/0') ? true : undefined));
    await w.service.idle();
    assert.equal(n1.vms.size, 1, 'the lease\'s VM on n1 runs on');
    assert.equal(n2.statusCalls, asked, 'n2 was asked what it runs after n1\'s hello');
    assert.equal([...n2.vms.values()][0]?.state, 'running');
  } finally {
    await w.close();
  }
});
