// The simulated driver: the common contract (with all capabilities, and with fewer), plus what only it has (a state file that outlives
// the process, hooks that make guests die or exit) and a model-based property over random
// concurrent operations.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import '../core/support/setup.ts';
import { DriverError, type VmSpec, type VmState, type VmStatus } from '../../src/drivers/driver.ts';
import { SimulatedDriver, type SimulatedDelays } from '../../src/drivers/simulated/simulated-driver.ts';
import { driverContract } from './driver-contract.ts';
import { ALL_CAPABILITIES, type Capability } from '../../src/drivers/capabilities.ts';
import { waitFor } from '../support/wait.ts';

const TINY: SimulatedDelays = { start: 2, stop: 1, suspend: 2, resume: 2, migrate: 2, prepareImage: 1 };
/** Long enough that an operation is surely still in transition when the test looks. */
const FOREVER: SimulatedDelays = { start: 600_000, stop: 600_000, suspend: 600_000, resume: 600_000, migrate: 600_000, prepareImage: 600_000 };
const TRANSITIONAL: readonly VmState[] = ['starting', 'stopping', 'suspending', 'resuming', 'migrating'];

const simulatedWith = (capabilities?: Capability[]) => async () => ({ driver: new SimulatedDriver({ delaysMs: TINY, capabilities }), nodes: ['node-a', 'node-b'] as [string, string], cleanup: async () => {} });
driverContract('simulated', ALL_CAPABILITIES, simulatedWith());
// Standing in for back-ends that can do less: the suite asks of them only what they declare, and that they refuse the rest.
driverContract('simulated with no capabilities', [], simulatedWith([]));
driverContract('simulated like a cloud (scratch disks, no suspension)', ['scratchDisks'], simulatedWith(['scratchDisks']));
driverContract('simulated like a batch pilot (suspends, never moves)', ['suspendToFile'], simulatedWith(['suspendToFile']));

function spec(n: number, node = 'node-a'): VmSpec {
  const leaseId = `lease-${n}`;
  return { id: `${leaseId}/0`, leaseId, index: 0, node, cpu: 1, memoryMiB: 512, image: null, mac: `52:54:00:00:00:${n.toString(16).padStart(2, '0')}` };
}

function until(what: string, driver: SimulatedDriver, check: (vms: VmStatus[]) => boolean): Promise<VmStatus[]> {
  return waitFor(what, async () => {
    const vms = await driver.status();
    return check(vms) && vms;
  }, { everyMs: 5 });
}

function byId(vms: VmStatus[]): Map<string, VmStatus> {
  return new Map(vms.map((vm) => [vm.id, vm]));
}

function withTempDir(body: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vws-simulated-'));
    try {
      await body(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('VMs outlive the driver on its state file; transitions under way are found finished', withTempDir(async (dir) => {
  const stateFile = join(dir, 'vms.json');
  const [a, b, c, d, e] = [1, 2, 3, 4, 5].map((n) => spec(n));
  const before = new SimulatedDriver({ delaysMs: TINY, stateFile });
  await Promise.all([a, b, c, d].map((vm) => before.start(vm)));
  await Promise.all([b, c, d].map((vm) => before.suspend(vm.id)));
  await before.close();

  // The service goes down in the middle of one operation of each kind.
  const crashing = new SimulatedDriver({ delaysMs: FOREVER, stateFile });
  const interrupted = [crashing.start(e), crashing.migrate(c.id, 'node-b'), crashing.resume(d.id), crashing.suspend(a.id), crashing.stop(b.id, { graceful: true })];
  await until('every VM in transition', crashing, (vms) => vms.length === 5 && vms.every((vm) => TRANSITIONAL.includes(vm.state)));
  await crashing.close();
  for (const op of interrupted) await assert.rejects(op, (err) => !(err instanceof DriverError));
  assert.deepEqual(readdirSync(dir), ['vms.json'], 'no temporary file is left behind');
  // The state file is a journal of changes: the last line per VM is its state.
  const last = new Map<string, { status: VmStatus } | null>();
  for (const line of readFileSync(stateFile, 'utf8').trim().split('\n')) {
    const entry = JSON.parse(line) as { id: string; vm: { status: VmStatus } | null };
    last.set(entry.id, entry.vm);
  }
  assert.deepEqual([...last.values()].filter((vm) => vm !== null).map((vm) => vm!.status.state).sort(), [...TRANSITIONAL].sort());

  const after = new SimulatedDriver({ delaysMs: TINY, stateFile });
  const vms = byId(await after.status());
  assert.deepEqual([...vms.keys()].sort(), [a.id, c.id, d.id, e.id]);
  assert.deepEqual([vms.get(a.id)?.state, vms.get(a.id)?.node, vms.get(a.id)?.ip], ['suspended', 'node-a', null]);
  assert.deepEqual([vms.get(c.id)?.state, vms.get(c.id)?.node], ['suspended', 'node-b']);
  assert.deepEqual([vms.get(d.id)?.state, vms.get(d.id)?.ip], ['running', '10.0.0.4']);
  assert.deepEqual([vms.get(e.id)?.state, vms.get(e.id)?.ip], ['running', '10.0.0.5']);
  const resumed = await after.resume(c.id);
  assert.deepEqual([resumed.state, resumed.node], ['running', 'node-b']);
  await after.close();
}));

test('failVm and exitVm are reported through onChange and status(); a failed VM can start again', async () => {
  const driver = new SimulatedDriver({ delaysMs: TINY });
  const [a, b] = [spec(1), spec(2)];
  await Promise.all([driver.start(a), driver.start(b)]);
  const heard: VmStatus[] = [];
  driver.onChange((vm) => heard.push(vm));
  await driver.failVm(a.id, 'kernel panic');
  await driver.exitVm(b.id);
  assert.deepEqual(heard, [
    { id: a.id, node: 'node-a', state: 'failed', ip: null, console: null, detail: 'kernel panic' },
    { id: b.id, node: 'node-a', state: 'stopped', ip: null, console: null, detail: 'the guest shut itself down' },
  ]);
  assert.deepEqual(await driver.status(), heard);
  await assert.rejects(driver.failVm(b.id, 'again'), DriverError);
  const restarted = await driver.start(a);
  assert.deepEqual(restarted, { id: a.id, node: 'node-a', state: 'running', ip: '10.0.0.1', console: null });
  await driver.stop(b.id, { graceful: true });
  assert.deepEqual((await driver.status()).map((vm) => vm.id), [a.id]);
  await driver.close();
});

test('refusals say what state the VM is in and what the operation needs', async () => {
  const driver = new SimulatedDriver({ delaysMs: TINY });
  await driver.start(spec(1));
  await driver.suspend(spec(1).id);
  await assert.rejects(driver.suspend(spec(1).id), /the VM is suspended; suspend needs a VM that is running/);
  await assert.rejects(driver.resume('lease-9/0'), /no such VM; resume needs a VM that is suspended/);
  await assert.rejects(driver.start(spec(1)), /the VM is suspended; start needs a VM that is stopped or failed/);
  await assert.rejects(driver.start({ ...spec(2), mac: 'not-a-mac' }), DriverError);
  await driver.prepareImage('node-a', 'debian');
  await driver.prepareImage('node-a', 'debian');
  await driver.close();
});

test('close() abandons operations in flight and refuses new ones', async () => {
  const driver = new SimulatedDriver({ delaysMs: FOREVER });
  const starting = driver.start(spec(1));
  await until('the VM starting', driver, (vms) => vms[0]?.state === 'starting');
  await driver.close();
  await assert.rejects(starting, /closed/);
  await assert.rejects(driver.suspend(spec(1).id), /closed/);
});

// The model: each VM's operations run one at a time in call order, so replaying the calls in
// order on plain records predicts every outcome, however the calls interleave across VMs.
type Command =
  | { op: 'start' | 'migrate'; vm: number; node: number }
  | { op: 'stop' | 'suspend' | 'resume' | 'fail' | 'exit'; vm: number }
  | { op: 'settle' };

interface ModelVm {
  state: 'running' | 'suspended' | 'failed' | 'stopped';
  node: string;
}

const NODES = ['node-a', 'node-b', 'node-c'];
const vmArb = fc.integer({ min: 1, max: 3 });
const nodeArb = fc.integer({ min: 0, max: NODES.length - 1 });
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ op: fc.constantFrom('start' as const, 'migrate' as const), vm: vmArb, node: nodeArb }),
  fc.record({ op: fc.constantFrom('stop' as const, 'suspend' as const, 'resume' as const, 'fail' as const, 'exit' as const), vm: vmArb }),
  fc.constant({ op: 'settle' as const }),
);
const delaysArb = fc.record({ start: fc.nat(2), stop: fc.nat(2), suspend: fc.nat(2), resume: fc.nat(2), migrate: fc.nat(2), prepareImage: fc.nat(2) });

/** Applies a command to the model; false if the driver must refuse it. */
function applyToModel(model: Map<string, ModelVm>, cmd: Exclude<Command, { op: 'settle' }>): boolean {
  const id = spec(cmd.vm).id;
  const vm = model.get(id);
  const moveTo = (state: ModelVm['state'], node = vm!.node): true => (model.set(id, { state, node }), true);
  switch (cmd.op) {
    case 'start':
      if (!vm || vm.state === 'stopped' || vm.state === 'failed') return moveTo('running', NODES[cmd.node]);
      return vm.state === 'running' && vm.node === NODES[cmd.node];
    case 'stop':
      model.delete(id);
      return true;
    case 'suspend':
      return vm?.state === 'running' && moveTo('suspended');
    case 'resume':
      return vm?.state === 'suspended' && moveTo('running');
    case 'migrate':
      return vm?.state === 'suspended' && vm.node !== NODES[cmd.node] && moveTo('suspended', NODES[cmd.node]);
    case 'fail':
      return vm?.state === 'running' && moveTo('failed');
    case 'exit':
      return vm?.state === 'running' && moveTo('stopped');
  }
}

function issue(driver: SimulatedDriver, cmd: Exclude<Command, { op: 'settle' }>): Promise<unknown> {
  const id = spec(cmd.vm).id;
  switch (cmd.op) {
    case 'start': return driver.start(spec(cmd.vm, NODES[cmd.node]));
    case 'migrate': return driver.migrate(id, NODES[cmd.node]);
    case 'stop': return driver.stop(id, { graceful: true });
    case 'suspend': return driver.suspend(id);
    case 'resume': return driver.resume(id);
    case 'fail': return driver.failVm(id, 'injected');
    case 'exit': return driver.exitVm(id);
  }
}

test('random concurrent operations succeed or refuse as a model predicts and settle in final states', async () => {
  await fc.assert(
    fc.asyncProperty(delaysArb, fc.array(commandArb, { maxLength: 25 }), async (delaysMs, commands) => {
      const driver = new SimulatedDriver({ delaysMs });
      const lastHeard = new Map<string, VmState>();
      driver.onChange((vm) => lastHeard.set(vm.id, vm.state));
      const model = new Map<string, ModelVm>();
      const calls: Array<{ cmd: Command; promise: Promise<unknown>; legal: boolean }> = [];
      try {
        for (const cmd of commands) {
          if (cmd.op === 'settle') await Promise.allSettled(calls.map((c) => c.promise));
          else calls.push({ cmd, legal: applyToModel(model, cmd), promise: issue(driver, cmd) });
        }
        const outcomes = await Promise.allSettled(calls.map((c) => c.promise));
        outcomes.forEach((outcome, i) => {
          const what = `call ${i}: ${JSON.stringify(calls[i].cmd)}`;
          if (calls[i].legal) assert.equal(outcome.status, 'fulfilled', `${what} should succeed: ${outcome.status === 'rejected' ? outcome.reason : ''}`);
          else assert.ok(outcome.status === 'rejected' && outcome.reason instanceof DriverError, `${what} should be refused with a DriverError`);
        });
        const vms = await driver.status();
        assert.deepEqual(vms.map((vm) => vm.id), [...model.keys()].sort());
        for (const vm of vms) {
          assert.deepEqual({ state: vm.state, node: vm.node }, model.get(vm.id), vm.id);
          assert.equal(vm.ip !== null, vm.state === 'running', `${vm.id} has an address exactly when running`);
          assert.equal(lastHeard.get(vm.id), vm.state, `${vm.id}: the last change heard is its state`);
        }
        for (const [id, state] of lastHeard) if (!model.has(id)) assert.equal(state, 'stopped', `${id} was last heard stopping`);
      } finally {
        await driver.close();
      }
    }),
    { numRuns: 150 },
  );
});
