// The QEMU driver puts each VM's seed, from the seed source the service wired, in the start call
// its agent gets; a seed that cannot be made fails the start with the reason, before any agent is
// called. The hub is a stand-in that records calls: what crosses the wire is tested elsewhere.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { plainSeed } from '../../../src/seed/plain-seed.ts';
import { DriverError, type VmSpec } from '../../../src/drivers/driver.ts';
import { AddressBook } from '../../../src/drivers/qemu/address-book.ts';
import { AgentDriver } from '../../../src/drivers/qemu/agent-driver.ts';
import type { AgentHub } from '../../../src/drivers/qemu/agent-hub.ts';
import type { SeedSource, Workload } from '../../../src/drivers/qemu/protocol.ts';
import type { Store } from '../../../src/store/store.ts';

const vm: VmSpec = { id: 'lease-3/0', leaseId: 'lease-3', index: 0, node: 'n1', cpu: 1, memoryMiB: 64, image: null, mac: '52:54:00:00:03:00' };

function driverWith(seedFor: SeedSource | undefined, t: { after(fn: () => Promise<void>): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'vws-driver-seed-'));
  // The driver writes its state file on the next turn of the loop: let it, then remove it.
  t.after(async () => {
    await new Promise((resolve) => setImmediate(resolve));
    rmSync(dir, { recursive: true, force: true });
  });
  const calls: Array<{ op: string; args: unknown }> = [];
  const hub = {
    call: async (node: string, op: string, args: unknown) => {
      calls.push({ op, args });
      return { id: vm.id, node, state: 'running', ip: null, console: null };
    },
  } as unknown as AgentHub;
  const driver = new AgentDriver({ hub, store: {} as Store, addresses: new AddressBook('10.77.0.0/24', join(dir, 'a.json')), stateFile: join(dir, 'vms.json'), seedFor });
  return { driver, calls };
}

test('the start call carries the seed the source made for the VM', async (t) => {
  const { driver, calls } = driverWith(plainSeed, t);
  await driver.start(vm);
  assert.equal(calls.length, 1);
  assert.equal(calls[0].op, 'start');
  assert.deepEqual((calls[0].args as Workload).seed, plainSeed(vm));
});

test('without a seed source the workload has no seed', async (t) => {
  const { driver, calls } = driverWith(undefined, t);
  await driver.start(vm);
  assert.equal('seed' in (calls[0].args as Workload), false);
});

test('a seed that cannot be made fails the start with why, and no agent is called', async (t) => {
  const { driver, calls } = driverWith(() => {
    throw new Error('hostname must be 1 to 63 lowercase letters');
  }, t);
  await assert.rejects(driver.start(vm), (e: Error) => e instanceof DriverError && /cloud-init seed could not be made: hostname must be/.test(e.message));
  assert.equal(calls.length, 0);
});
