// What every Driver must do, whatever runs its VMs. Only the Driver interface is used here, so a
// real driver (QEMU, EC2, ...) can run the same suite against real nodes. Which tests a driver
// runs follows from the capabilities it declares (src/drivers/contract-requirements.ts): the
// base tests, the tests of each capability it has, and a refusal test for each it lacks.
//
// `make` must return a driver that knows no VMs yet, two distinct nodes it can run VMs on, and a
// cleanup; and, for a driver that cannot boot a VM without one, the image its VMs boot. Each test stops the VMs it started before cleaning up, so a real pool is left empty.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Capability, capabilitiesProblem } from '../../src/drivers/capabilities.ts';
import { CONTRACT_TESTS, type ContractTestId, contractTestsFor } from '../../src/drivers/contract-requirements.ts';
import { DriverError, type Driver, UnsupportedOperation, type VmSpec, type VmState, type VmStatus } from '../../src/drivers/driver.ts';
import { waitFor } from '../support/wait.ts';

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

const eventually = <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => waitFor(what, probe, { timeoutMs: PATIENCE_MS, everyMs: POLL_MS });

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

/** A refusal for the VM's state: a DriverError, and not one for a missing capability. */
async function assertDriverError(what: string, op: Promise<unknown>): Promise<void> {
  await assert.rejects(op, (err: unknown) => {
    assert.ok(err instanceof DriverError, `${what}: expected a DriverError, got ${String(err)}`);
    assert.ok(!(err instanceof UnsupportedOperation), `${what}: refused for a capability the driver declares: ${err.message}`);
    return true;
  });
}

/** A refusal for a capability the driver does not declare, saying which. */
async function assertUnsupported(what: string, capability: Capability, op: Promise<unknown>): Promise<void> {
  await assert.rejects(op, (err: unknown) => {
    assert.ok(err instanceof UnsupportedOperation, `${what}: expected an UnsupportedOperation, got ${String(err)}`);
    assert.equal(err.capability, capability, `${what}: names the capability`);
    assert.match(err.message, new RegExp(capability), `${what}: the message names the capability`);
    return true;
  }, `${what}: the driver does not declare ${capability}, yet it did the operation instead of refusing it`);
}

/** The distinct states a VM goes through, as onChange reports them. */
function transitionsOf(driver: Driver, id: string): VmState[] {
  const seen: VmState[] = [];
  driver.onChange((vm) => {
    // Repeats (the same state with news such as an address) are not transitions.
    if (vm.id === id && seen.at(-1) !== vm.state) seen.push(vm.state);
  });
  return seen;
}

type Start = (spec: VmSpec) => Promise<VmStatus>;

/** Starts the VM and sees it take its address; a driver that suspends to a file suspends and resumes it, and it takes it again. */
async function runsAcrossSuspension(driver: Driver, spec: VmSpec, node: string, start: Start): Promise<void> {
  await start(spec);
  await waitForIp(driver, spec.id, node);
  if (!driver.capabilities.has('suspendToFile')) return;
  await driver.suspend(spec.id);
  await driver.resume(spec.id);
  await waitForIp(driver, spec.id, node);
}
export type ContractBody = (f: DriverFixture, start: Start) => Promise<void>;

/** One body per contract test; the type makes the suite and its requirements list the same tests. */
export const CONTRACT_BODIES: Record<ContractTestId, ContractBody> = {
  async 'start-stop'({ driver, nodes: [a] }, start) {
    const spec = vmSpec(a);
    const seen = transitionsOf(driver, spec.id);
    const started = await start(spec);
    assert.equal(started.id, spec.id);
    assert.equal(started.node, a);
    await waitForIp(driver, spec.id, a);
    await driver.stop(spec.id, { graceful: true });
    await waitForGone(driver, spec.id);
    await eventually('the stopped event', async () => (seen.at(-1) === 'stopped' ? true : undefined));
    assert.deepEqual(seen, ['starting', 'running', 'stopping', 'stopped']);
  },

  async 'start-again'({ driver, nodes: [a] }, start) {
    const spec = vmSpec(a);
    const [first, second] = await Promise.all([start(spec), start({ ...spec })]);
    assert.equal(first.node, a);
    assert.equal(second.node, a);
    const running = await waitForIp(driver, spec.id, a);
    const again = await start({ ...spec });
    assert.equal(again.state, 'running');
    assert.equal(again.node, a);
    assert.deepEqual((await driver.status()).filter((vm) => vm.id === spec.id), [running]);
  },

  async 'stop-again'({ driver, nodes: [a] }, start) {
    await driver.stop(`contract-${process.pid}-never-started/0`, { graceful: true });
    const spec = vmSpec(a);
    await start(spec);
    await driver.stop(spec.id, { graceful: false });
    await driver.stop(spec.id, { graceful: true });
    await waitForGone(driver, spec.id);
  },

  async 'independent-vms'({ driver, nodes: [a, b] }, start) {
    assert.deepEqual(await driver.status(), []);
    const [one, two, three] = [vmSpec(a), vmSpec(a), vmSpec(b)];
    await Promise.all([start(one), start(two), start(three)]);
    await driver.stop(three.id, { graceful: true });
    const first = await waitForIp(driver, one.id, a);
    await waitForIp(driver, two.id, a);
    await waitForGone(driver, three.id);
    assert.deepEqual((await driver.status()).map((vm) => vm.id).sort(), [one.id, two.id].sort());
    const fourth = vmSpec(b);
    await start(fourth);
    const other = await waitForIp(driver, fourth.id, b);
    assert.notEqual(first.ip, other.ip);
    assert.deepEqual((await driver.status()).map((vm) => vm.id).sort(), [one.id, two.id, fourth.id].sort());
  },

  async 'suspend-resume'({ driver, nodes: [a] }, start) {
    const spec = vmSpec(a);
    const seen = transitionsOf(driver, spec.id);
    await start(spec);
    await waitForIp(driver, spec.id, a);
    const suspended = await driver.suspend(spec.id);
    assert.equal(suspended.state, 'suspended');
    assert.equal(suspended.node, a);
    assert.equal((await statusOf(driver, spec.id))?.state, 'suspended', 'a suspended VM is still listed');
    await driver.resume(spec.id);
    await waitForIp(driver, spec.id, a);
    await driver.stop(spec.id, { graceful: true });
    await waitForGone(driver, spec.id);
    await eventually('the stopped event', async () => (seen.at(-1) === 'stopped' ? true : undefined));
    assert.deepEqual(seen, ['starting', 'running', 'suspending', 'suspended', 'resuming', 'running', 'stopping', 'stopped']);
  },

  async 'illegal-in-state'({ driver, nodes: [a] }, start) {
    const spec = vmSpec(a);
    await start(spec);
    await waitForState(driver, spec.id, 'running', a);
    await assertDriverError('resume a running VM', driver.resume(spec.id));
    await assertDriverError('suspend an unknown VM', driver.suspend(`contract-${process.pid}-unknown/0`));
    assert.equal((await statusOf(driver, spec.id))?.state, 'running');
    await driver.suspend(spec.id);
    await assertDriverError('suspend a suspended VM', driver.suspend(spec.id));
    const after = await statusOf(driver, spec.id);
    assert.equal(after?.state, 'suspended');
    assert.equal(after?.node, a);
  },

  async 'cold-migration'({ driver, nodes: [a, b] }, start) {
    const spec = vmSpec(a);
    await start(spec);
    await waitForState(driver, spec.id, 'running', a);
    await assertDriverError('migrate a running VM', driver.migrate(spec.id, b));
    await driver.suspend(spec.id);
    await assertDriverError('migrate to the node the VM is on', driver.migrate(spec.id, a));
    assert.equal((await statusOf(driver, spec.id))?.node, a);
    const migrated = await driver.migrate(spec.id, b);
    assert.equal(migrated.state, 'suspended');
    assert.equal(migrated.node, b);
    await waitForState(driver, spec.id, 'suspended', b);
    const resumed = await driver.resume(spec.id);
    assert.equal(resumed.node, b);
    await waitForIp(driver, spec.id, b);
  },

  async 'live-migration'({ driver, nodes: [a, b] }, start) {
    const spec = vmSpec(a);
    await start(spec);
    await waitForIp(driver, spec.id, a);
    await assertDriverError('migrate live to the node the VM is on', driver.liveMigrate(spec.id, a));
    const moved = await driver.liveMigrate(spec.id, b);
    assert.equal(moved.status.state, 'running');
    assert.equal(moved.status.node, b);
    assert.ok(moved.downtimeMs >= 0 && moved.totalMs >= moved.downtimeMs, `paused ${moved.downtimeMs} ms of ${moved.totalMs} ms`);
    await waitForIp(driver, spec.id, b);
    assert.deepEqual((await driver.status()).filter((vm) => vm.id === spec.id).map((vm) => vm.node), [b], 'the VM is listed once, on its new node');
  },

  async 'scratch-disk'({ driver, nodes: [a] }, start) {
    await runsAcrossSuspension(driver, { ...vmSpec(a), scratchMiB: 64 }, a, start);
  },

  async 'enforced-limits'({ driver, nodes: [a] }, start) {
    await runsAcrossSuspension(driver, { ...vmSpec(a), bandwidthMbps: 10, diskMBps: 20, diskIops: 500 }, a, start);
    for (const [field, value] of [['bandwidthMbps', 0], ['diskMBps', 1e9], ['diskIops', 2.5]] as const) {
      const wrong = { ...vmSpec(a), [field]: value };
      await assert.rejects(start(wrong), (err: unknown) => {
        assert.ok(err instanceof DriverError && err.permanent, `a ${field} of ${value}: expected a permanent DriverError, got ${String(err)}`);
        assert.match(err.message, new RegExp(field), `the refusal of a ${field} of ${value} names it`);
        return true;
      });
      assert.equal(await statusOf(driver, wrong.id), undefined, `no VM with a ${field} of ${value} was started`);
    }
  },

  async 'ignores-limits'({ driver, nodes: [a] }, start) {
    const spec = { ...vmSpec(a), bandwidthMbps: 10, diskMBps: 20, diskIops: 500 };
    await start(spec);
    await waitForIp(driver, spec.id, a);
  },

  async 'refuses-suspend'({ driver, nodes: [a] }, start) {
    const spec = vmSpec(a);
    await start(spec);
    await waitForState(driver, spec.id, 'running', a);
    await assertUnsupported('suspend', 'suspendToFile', driver.suspend(spec.id));
    await assertUnsupported('resume', 'suspendToFile', driver.resume(spec.id));
    assert.equal((await statusOf(driver, spec.id))?.state, 'running');
  },

  async 'refuses-cold-migration'({ driver, nodes: [a, b] }, start) {
    const spec = vmSpec(a);
    await start(spec);
    await waitForState(driver, spec.id, 'running', a);
    if (driver.capabilities.has('suspendToFile')) await driver.suspend(spec.id);
    await assertUnsupported('migrate', 'coldMigration', driver.migrate(spec.id, b));
    assert.equal((await statusOf(driver, spec.id))?.node, a);
  },

  async 'refuses-live-migration'({ driver, nodes: [a, b] }, start) {
    const spec = vmSpec(a);
    await start(spec);
    await waitForState(driver, spec.id, 'running', a);
    await assertUnsupported('liveMigrate', 'liveMigration', driver.liveMigrate(spec.id, b));
    const after = await statusOf(driver, spec.id);
    assert.deepEqual({ state: after?.state, node: after?.node }, { state: 'running', node: a });
  },

  async 'refuses-scratch-disk'({ driver, nodes: [a] }, start) {
    const spec = { ...vmSpec(a), scratchMiB: 64 };
    await assertUnsupported('start with a scratch disk', 'scratchDisks', start(spec));
    assert.equal(await statusOf(driver, spec.id), undefined, 'no VM was started');
  },
};


/**
 * Registers the contract tests that a driver declaring `capabilities` must pass. `make` must
 * return a driver that declares exactly those (checked too).
 */
export function driverContract(name: string, capabilities: readonly Capability[], make: () => Promise<DriverFixture>): void {
  const declared = new Set(capabilities);

  /** Runs `body` on a fresh driver; whatever it started is stopped afterwards, pass or fail. */
  async function withDriver(body: ContractBody): Promise<void> {
    const fixture = await make();
    const started = new Set<string>();
    const start = async (spec: VmSpec): Promise<VmStatus> => {
      started.add(spec.id);
      const withImage = { ...spec, image: fixture.image ?? null };
      if (withImage.image) await fixture.driver.prepareImage(spec.node, withImage.image);
      return fixture.driver.start(withImage);
    };
    try {
      assert.deepEqual([...fixture.driver.capabilities].sort(), [...declared].sort(), `${name} declares the capabilities its suite was chosen for`);
      await body(fixture, start);
    } finally {
      await Promise.allSettled([...started].map((id) => fixture.driver.stop(id, { graceful: false })));
      await fixture.driver.close();
      await fixture.cleanup();
    }
  }

  test(`${name}: declares a coherent set of capabilities`, () => {
    assert.equal(capabilitiesProblem(declared), null);
  });
  for (const id of contractTestsFor(declared)) test(`${name}: ${CONTRACT_TESTS[id].title}`, () => withDriver(CONTRACT_BODIES[id]));
}
