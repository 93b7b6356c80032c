// Capabilities, the contract tests they call for, and the registry `vws serve --driver` reads.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ALL_CAPABILITIES, type Capability, capabilitySet } from '../../src/drivers/capabilities.ts';
import { CONTRACT_TESTS, contractTestsFor, testsByCapability } from '../../src/drivers/contract-requirements.ts';
import type { Driver, VmSpec } from '../../src/drivers/driver.ts';
import { DRIVERS, driverNamed } from '../../src/drivers/registry.ts';
import { SimulatedDriver } from '../../src/drivers/simulated/simulated-driver.ts';
import { openSqliteStore } from '../../src/store/sqlite-store.ts';
import { CONTRACT_BODIES, type DriverFixture } from './driver-contract.ts';

test('a driver with every capability runs every test but the refusals; one with none runs the base tests and every refusal', () => {
  const all = contractTestsFor(new Set(ALL_CAPABILITIES));
  const none = contractTestsFor(new Set());
  assert.deepEqual(all, ['start-stop', 'start-again', 'stop-again', 'independent-vms', 'suspend-resume', 'illegal-in-state', 'cold-migration', 'live-migration', 'scratch-disk', 'enforced-limits']);
  assert.deepEqual(none, ['start-stop', 'start-again', 'stop-again', 'independent-vms', 'refuses-suspend', 'refuses-cold-migration', 'refuses-live-migration', 'refuses-scratch-disk', 'ignores-limits']);
});

test('a back-end that cannot cold-migrate is never asked to', () => {
  const cloud = contractTestsFor(new Set<Capability>(['scratchDisks']));
  assert.ok(!cloud.includes('cold-migration') && !cloud.includes('suspend-resume'));
  assert.ok(cloud.includes('refuses-cold-migration') && cloud.includes('refuses-suspend') && cloud.includes('scratch-disk'));
});

test('each capability calls for a test when declared and a refusal test when left out', () => {
  for (const [capability, { declared, leftOut }] of Object.entries(testsByCapability())) {
    assert.ok(declared.length > 0, `${capability} calls for a test when declared`);
    assert.equal(leftOut.length, 1, `${capability} calls for one refusal test when left out`);
  }
  assert.deepEqual(Object.keys(CONTRACT_BODIES).sort(), Object.keys(CONTRACT_TESTS).sort(), 'the suite has a body for each requirement and no other');
});

test('capability sets refuse unknown names and a cold migration without suspension', () => {
  assert.throws(() => capabilitySet(['suspendToFile', 'teleport']), /unknown driver capabilities teleport: known ones are suspendToFile, coldMigration, liveMigration, scratchDisks, enforceLimits/);
  assert.throws(() => capabilitySet(['coldMigration']), /coldMigration needs suspendToFile/);
  assert.deepEqual([...capabilitySet(['suspendToFile', 'coldMigration'])], ['suspendToFile', 'coldMigration']);
});

/** Declares no suspension, but suspends all the same: the refusal test must catch it. */
function overpromising(): Driver {
  const inner = new SimulatedDriver({ delaysMs: { start: 1, stop: 1, suspend: 1, resume: 1, migrate: 1, prepareImage: 1 } });
  return {
    name: 'overpromising', capabilities: new Set<Capability>(),
    prepareImage: (node, image) => inner.prepareImage(node, image), start: (vm) => inner.start(vm), stop: (id, opts) => inner.stop(id, opts),
    suspend: (id) => inner.suspend(id), resume: (id) => inner.resume(id), migrate: (id, to) => inner.migrate(id, to), liveMigrate: (id, to) => inner.liveMigrate(id, to),
    status: () => inner.status(), onChange: (l) => inner.onChange(l), close: () => inner.close(),
  };
}

test('the refusal test fails a driver that leaves a capability out but does the operation anyway', async () => {
  const driver = overpromising();
  const fixture: DriverFixture = { driver, nodes: ['node-a', 'node-b'], cleanup: async () => {} };
  try {
    await assert.rejects(CONTRACT_BODIES['refuses-suspend'](fixture, (spec: VmSpec) => driver.start(spec)), /suspend: the driver does not declare suspendToFile, yet it did the operation instead of refusing it/);
  } finally {
    for (const vm of await driver.status()) await driver.stop(vm.id, { graceful: false });
    await driver.close();
  }
});

test('an unknown driver name is refused with the registered ones listed', () => {
  assert.equal(driverNamed('qemu').name, 'qemu');
  assert.throws(() => driverNamed('pbs'), { name: 'RangeError', message: "no driver named 'pbs': the registered drivers are simulated, qemu, ec2, pilot" });
});

test('every registered driver opens on a data directory and declares a coherent set of capabilities', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-registry-'));
  const store = await openSqliteStore(join(dir, 'vws.db'));
  try {
    assert.equal(new Set(DRIVERS.map((d) => d.name)).size, DRIVERS.length, 'names are unique');
    // A driver of a cloud opens on its site's configuration (nothing is asked of the cloud until a VM starts).
    const ec2Config = join(dir, 'ec2.json');
    writeFileSync(ec2Config, JSON.stringify({ region: 'us-east-1', instanceTypes: [{ name: 't3.micro', cpu: 2, memoryMiB: 1024, pricePerHour: 0.0104 }], images: {}, accounts: {} }));
    // The pilots' driver opens on its pilot policy (nothing is asked of the batch system until the service binds it).
    const pilotConfig = join(dir, 'pilots.json');
    writeFileSync(pilotConfig, JSON.stringify({ maxPilots: 1, timeLimitSeconds: 3600, idleTimeoutSeconds: 60, graceSeconds: 60, node: { cpu: 1, memoryMiB: 1024 }, agent: { command: ['vws', 'agent'], servers: ['http://127.0.0.1:1'], tokenFile: '/dev/null', depot: '/tmp', dataDir: '/tmp' } }));
    for (const plugin of DRIVERS) {
      const opened = await plugin.open({ store, dataDir: dir, ...(plugin.options.includes('ec2-config') ? { ec2Config } : {}), ...(plugin.options.includes('pilot-config') ? { pilotConfig } : {}) });
      try {
        assert.equal(opened.driver.name, plugin.name);
        assert.doesNotThrow(() => capabilitySet([...opened.driver.capabilities]), `${plugin.name}'s capabilities`);
      } finally {
        await opened.driver.close();
      }
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
