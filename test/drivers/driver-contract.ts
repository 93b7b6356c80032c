// What every Driver must do, whatever runs its VMs. Only the Driver interface is used here, so a
// real driver (QEMU, EC2, ...) can run the same suite against real nodes.
//
// `make` must return a driver that knows no VMs yet, two distinct nodes it can run VMs on, and a
// cleanup; and, for a driver that cannot boot a VM without one, the image its VMs boot. Each test stops the VMs it started before cleaning up, so a real pool is left empty.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DriverError, type Driver, type VmSpec, type VmState, type VmStatus } from '../../src/drivers/driver.ts';

export interface DriverFixture {
  driver: Driver;
  nodes: [string, string];
  cleanup: () => Promise<void>;
  image?: string;
}

/** How long to wait for a state before giving up: only a guard against hanging, never a measure. */
const PATIENCE_MS = 120_000;
const POLL_MS = 10;

let vmCounter = 0;

/** A blank VM with an id and MAC used by no other VM of this run. */
function vmSpec(node: string): VmSpec {
  const n = ++vmCounter;
  const leaseId = `contract-${process.pid}-${n}`;
  const tail = [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff].map((b) => b.toString(16).padStart(2, '0')).join(':');
  return { id: `${leaseId}/0`, leaseId, index: 0, node, cpu: 1, memoryMiB: 256, image: null, mac: `52:54:00:${tail}` };
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const giveUpAt = Date.now() + PATIENCE_MS;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > giveUpAt) assert.fail(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function statusOf(driver: Driver, id: string): Promise<VmStatus | undefined> {
  return (await driver.status()).find((vm) => vm.id === id);
}

function waitForState(driver: Driver, id: string, state: VmState, node: string): Promise<VmStatus> {
  return eventually(`${id} ${state} on ${node}`, async () => {
    const vm = await statusOf(driver, id);
    return vm?.state === state && vm.node === node ? vm : undefined;
  });
}

/** Real guests take their address some time after they start running. */
function waitForIp(driver: Driver, id: string, node: string): Promise<VmStatus> {
  return eventually(`${id} running on ${node} with an address`, async () => {
    const vm = await statusOf(driver, id);
    return vm?.state === 'running' && vm.node === node && vm.ip !== null ? vm : undefined;
  });
}

async function waitForGone(driver: Driver, id: string): Promise<void> {
  await eventually(`${id} gone from status()`, async () => ((await statusOf(driver, id)) ? undefined : true));
}

async function assertDriverError(what: string, op: Promise<unknown>): Promise<void> {
  await assert.rejects(op, (err: unknown) => {
    assert.ok(err instanceof DriverError, `${what}: expected a DriverError, got ${String(err)}`);
    return true;
  });
}

export function driverContract(name: string, make: () => Promise<DriverFixture>): void {
  /** Runs `body` on a fresh driver; whatever it started is stopped afterwards, pass or fail. */
  async function withDriver(body: (f: DriverFixture, start: (spec: VmSpec) => Promise<VmStatus>) => Promise<void>): Promise<void> {
    const fixture = await make();
    const started = new Set<string>();
    const start = async (spec: VmSpec): Promise<VmStatus> => {
      started.add(spec.id);
      const withImage = { ...spec, image: fixture.image ?? null };
      if (withImage.image) await fixture.driver.prepareImage(spec.node, withImage.image);
      return fixture.driver.start(withImage);
    };
    try {
      await body(fixture, start);
    } finally {
      await Promise.allSettled([...started].map((id) => fixture.driver.stop(id, { graceful: false })));
      await fixture.driver.close();
      await fixture.cleanup();
    }
  }

  test(`${name}: start, suspend, resume and stop one VM on its node`, () =>
    withDriver(async ({ driver, nodes: [a] }, start) => {
      const spec = vmSpec(a);
      const started = await start(spec);
      assert.equal(started.id, spec.id);
      assert.equal(started.node, a);
      await waitForIp(driver, spec.id, a);
      const suspended = await driver.suspend(spec.id);
      assert.equal(suspended.state, 'suspended');
      assert.equal(suspended.node, a);
      await driver.resume(spec.id);
      await waitForIp(driver, spec.id, a);
      await driver.stop(spec.id, { graceful: true });
      await waitForGone(driver, spec.id);
    }));

  test(`${name}: a suspended VM migrated to the other node resumes there`, () =>
    withDriver(async ({ driver, nodes: [a, b] }, start) => {
      const spec = vmSpec(a);
      await start(spec);
      await waitForState(driver, spec.id, 'running', a);
      await driver.suspend(spec.id);
      const migrated = await driver.migrate(spec.id, b);
      assert.equal(migrated.state, 'suspended');
      assert.equal(migrated.node, b);
      await waitForState(driver, spec.id, 'suspended', b);
      const resumed = await driver.resume(spec.id);
      assert.equal(resumed.node, b);
      await waitForIp(driver, spec.id, b);
    }));

  test(`${name}: onChange reports each transition of a VM in order`, () =>
    withDriver(async ({ driver, nodes: [a] }, start) => {
      const spec = vmSpec(a);
      const seen: VmState[] = [];
      driver.onChange((vm) => {
        // Repeats (the same state with news such as an address) are not transitions.
        if (vm.id === spec.id && seen.at(-1) !== vm.state) seen.push(vm.state);
      });
      await start(spec);
      await driver.suspend(spec.id);
      await driver.resume(spec.id);
      await driver.stop(spec.id, { graceful: true });
      await eventually('the stopped event', async () => (seen.at(-1) === 'stopped' ? true : undefined));
      assert.deepEqual(seen, ['starting', 'running', 'suspending', 'suspended', 'resuming', 'running', 'stopping', 'stopped']);
    }));

  test(`${name}: starting a running VM again changes nothing`, () =>
    withDriver(async ({ driver, nodes: [a] }, start) => {
      const spec = vmSpec(a);
      const [first, second] = await Promise.all([start(spec), start({ ...spec })]);
      assert.equal(first.node, a);
      assert.equal(second.node, a);
      const running = await waitForIp(driver, spec.id, a);
      const again = await start({ ...spec });
      assert.equal(again.state, 'running');
      assert.equal(again.node, a);
      assert.deepEqual((await driver.status()).filter((vm) => vm.id === spec.id), [running]);
    }));

  test(`${name}: stopping an unknown or already stopped VM resolves`, () =>
    withDriver(async ({ driver, nodes: [a] }, start) => {
      await driver.stop(`contract-${process.pid}-never-started/0`, { graceful: true });
      const spec = vmSpec(a);
      await start(spec);
      await driver.stop(spec.id, { graceful: false });
      await driver.stop(spec.id, { graceful: true });
      await waitForGone(driver, spec.id);
    }));

  test(`${name}: operations illegal in the VM's state reject with DriverError and change nothing`, () =>
    withDriver(async ({ driver, nodes: [a, b] }, start) => {
      const spec = vmSpec(a);
      await start(spec);
      await waitForState(driver, spec.id, 'running', a);
      await assertDriverError('resume a running VM', driver.resume(spec.id));
      await assertDriverError('migrate a running VM', driver.migrate(spec.id, b));
      await assertDriverError('suspend an unknown VM', driver.suspend(`contract-${process.pid}-unknown/0`));
      assert.equal((await statusOf(driver, spec.id))?.state, 'running');
      await driver.suspend(spec.id);
      await assertDriverError('suspend a suspended VM', driver.suspend(spec.id));
      await assertDriverError('migrate to the node the VM is on', driver.migrate(spec.id, a));
      const after = await statusOf(driver, spec.id);
      assert.equal(after?.state, 'suspended');
      assert.equal(after?.node, a);
    }));

  test(`${name}: VMs keep independent states, and status() lists exactly the live ones`, () =>
    withDriver(async ({ driver, nodes: [a, b] }, start) => {
      assert.deepEqual(await driver.status(), []);
      const [one, two, three] = [vmSpec(a), vmSpec(a), vmSpec(b)];
      await Promise.all([start(one), start(two), start(three)]);
      await Promise.all([driver.suspend(two.id), driver.stop(three.id, { graceful: true })]);
      const first = await waitForIp(driver, one.id, a);
      await waitForState(driver, two.id, 'suspended', a);
      await waitForGone(driver, three.id);
      assert.deepEqual((await driver.status()).map((vm) => vm.id).sort(), [one.id, two.id].sort());
      const fourth = vmSpec(b);
      await start(fourth);
      const other = await waitForIp(driver, fourth.id, b);
      assert.notEqual(first.ip, other.ip);
      assert.deepEqual((await driver.status()).map((vm) => vm.id).sort(), [one.id, two.id, fourth.id].sort());
    }));
}
