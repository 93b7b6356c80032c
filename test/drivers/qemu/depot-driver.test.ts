// A VM resumed on another node after its own is gone for good, through a depot the two nodes
// share: the real AgentDriver over a real loopback WebSocket to two in-process NodeAgents whose
// QemuHosts run the project's test guest under QEMU, each node in its own network namespace, both
// with --depot on one directory. The VM boots on node-a and is suspended (so parked); node-a's
// agent stops and its data dir is deleted; a service that restarts knows the VM from node-b's
// report of the depot; it is unparked on node-b and resumed, its counter going on from where it
// was saved. Two simulated nodes, one sharing no depot and one another depot, are refused the VM.
// What it took (suspend + park, unpark) and the bytes it moved are printed, not asserted.

import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildTestGuest } from '../../../guest/build.ts';
import { NodeAgent } from '../../../src/agent/node-agent.ts';
import { QemuHost } from '../../../src/agent/qemu-host.ts';
import { SimulatedHost } from '../../../src/agent/simulated-host.ts';
import { bootstrapAdmin } from '../../../src/api/auth.ts';
import { buildServer } from '../../../src/api/server.ts';
import { wallClock } from '../../../src/control/clock.ts';
import { LeaseService } from '../../../src/control/lease-service.ts';
import { configWith } from '../../../src/core/config.ts';
import { DEPOT_NODE, DriverError, type VmStatus } from '../../../src/drivers/driver.ts';
import { AddressBook } from '../../../src/drivers/qemu/address-book.ts';
import { AgentDriver } from '../../../src/drivers/qemu/agent-driver.ts';
import { AgentHub } from '../../../src/drivers/qemu/agent-hub.ts';
import type { Timing } from '../../../src/drivers/qemu/protocol.ts';
import { SimulatedDriver } from '../../../src/drivers/simulated/simulated-driver.ts';
import { plainSeed } from '../../../src/seed/plain-seed.ts';
import { openSqliteStore } from '../../../src/store/sqlite-store.ts';
import { qemuPids, registerImage, vmLeftovers } from '../../e2e/qemu-pool.ts';
import { httpGetIn, killAllIn, twoNodeFabric } from '../../support/netns.ts';
import { waitFor } from '../../support/wait.ts';
import { runEveryStep } from '../../support/teardown.ts';

const ID = `depot-${process.pid}/0`;

/** Runs every step, whatever fails, and fails with what did. */
async function teardown(steps: Array<() => unknown>): Promise<void> {
  assert.deepEqual(await runEveryStep(steps), [], 'tearing down');
}
const MEMORY_MIB = 256;

test('a VM parked in a shared depot resumes on another node after its own is gone for good', async (t) => {
  const guest = buildTestGuest();
  const dir = mkdtempSync(join(tmpdir(), 'vws-depot-driver-'));
  chmodSync(dir, 0o755);
  const fabric = twoNodeFabric('dpt');
  const cleanups: Array<() => unknown> = [];
  t.after(() => teardown([...cleanups.reverse(), ...fabric.namespaces.map((ns) => () => killAllIn(ns)), () => fabric.destroy(), () => rmSync(dir, { recursive: true, force: true })]));
  const store = await openSqliteStore(join(dir, 'vws.db'));
  cleanups.push(() => store.close());
  const admin = (await bootstrapAdmin(store, wallClock.now()))!;
  const addresses = new AddressBook('10.77.0.0/24', join(dir, 'service', 'addresses.json'));
  let driver: AgentDriver | null = null;
  const timings: Timing[] = [];
  const hub = new AgentHub({ graceMs: 600_000, callTimeoutMs: 600_000 }, {
    hello: async (node, vms) => {
      driver?.nodeReported(node.name, vms, node.depot);
      return { bridgeAddress: addresses.node(node.name), prefix: addresses.prefix };
    },
    vm: (node, vm) => driver?.heard(node, vm),
    timing: (_node, timing) => timings.push(timing),
    away: () => undefined,
  });
  cleanups.push(() => hub.close());
  const serviceDriver = new SimulatedDriver({});
  const service = await LeaseService.open({ store, driver: serviceDriver, clock: wallClock, config: configWith({}) });
  cleanups.push(() => serviceDriver.close(), () => service.close());
  const app = buildServer({ service, store, version: 'test', blobDir: join(dir, 'service', 'blobs'), now: () => wallClock.now(), agents: hub });
  await app.listen({ host: '127.0.0.1', port: 0 });
  cleanups.push(() => app.close());
  const server = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  await registerImage(server, admin, 'guest-kernel', guest.kernel);
  await registerImage(server, admin, 'guest-initrd', guest.initrd);
  await registerImage(server, admin, 'guest', guest.disk, { kernel: 'guest-kernel', initrd: 'guest-initrd', cmdline: guest.cmdline });

  const depot = join(dir, 'depot');
  mkdirSync(depot);
  const agents: NodeAgent[] = [];
  const hosts: QemuHost[] = [];
  for (const [i, name] of ['node-a', 'node-b'].entries()) {
    const data = join(dir, `agent-${i}`);
    mkdirSync(data, { mode: 0o755 });
    const host = await QemuHost.open({
      data, server, token: admin, imageCacheMiB: 1024, bridge: 'vwsbr0', netns: fabric.namespaces[i], depot,
      node: { name, cpu: 2, memoryMiB: 2048, diskMiB: 4096, transferAddress: '127.0.0.1', migrationAddress: fabric.addresses[i] },
    });
    const agent = new NodeAgent({ server, token: admin, host, log: (line) => process.stderr.write(`agent ${name}: ${line}\n`) });
    hosts.push(host);
    agents.push(agent);
    agent.start();
    cleanups.push(() => agent.stop(), () => host.close());
  }
  // Nodes that must be refused the VM: one sharing no depot, one sharing another.
  const other = 'f'.repeat(32);
  for (const [name, report] of [['node-c', {}], ['node-d', { depot: other }]] as const) {
    const agent = new NodeAgent({ server, token: admin, host: new SimulatedHost({ name, cpu: 2, memoryMiB: 2048, diskMiB: 4096, transferAddress: '127.0.0.1', migrationAddress: '127.0.0.1', ...report }) });
    agent.start();
    cleanups.push(() => agent.stop());
  }
  await Promise.all(agents.map((a) => a.connected()));
  await waitFor('the four agents to connect', () => hub.connectedNodes().length === 4 || undefined, { seen: () => hub.connectedNodes() });
  assert.equal(hub.report('node-a')?.depot, hub.report('node-b')?.depot, 'node-a and node-b name the same depot');

  driver = new AgentDriver({ hub, store, addresses, stateFile: join(dir, 'service', 'driver-1.json'), seedFor: plainSeed });
  const spec = { id: ID, leaseId: ID.split('/')[0], index: 0, node: 'node-a', cpu: 1, memoryMiB: MEMORY_MIB, image: 'guest', mac: '52:54:00:0d:e0:01' };
  await driver.prepareImage('node-a', 'guest');
  await driver.start(spec);
  const ip = (await waitFor('the VM to take its address on node-a', async () => (await driver!.status()).find((v) => v.id === ID && v.ip)?.ip)) as string;
  const counter = async (ns: string): Promise<number> => Number((await httpGetIn(ns, ip, '/counter')).trim());
  await waitFor('the counter to pass 3', async () => (await counter(fabric.namespaces[0])) > 3 || undefined);

  const atSave = await counter(fabric.namespaces[0]);
  const suspendStarted = Date.now();
  const parked = await driver.suspend(ID);
  const suspendAndParkMs = Date.now() - suspendStarted;
  assert.deepEqual([parked.node, parked.state], [DEPOT_NODE, 'suspended']);
  const entry = join(depot, 'vms', readdirSync(join(depot, 'vms'))[0]);
  const bytes = Object.fromEntries(readdirSync(entry).map((f) => [f, statSync(join(entry, f)).size]));

  // node-a goes for good: its agent stops, its data with it.
  await agents[0].stop();
  await hosts[0].close();
  assert.deepEqual(qemuPids(fabric.namespaces[0]), [], 'nothing runs on node-a');
  rmSync(join(dir, 'agent-0'), { recursive: true, force: true });
  await driver.close();

  // A service that restarts with nothing saved learns of the parked VM from node-b's listing.
  driver = new AgentDriver({ hub, store, addresses, stateFile: join(dir, 'service', 'driver-2.json'), seedFor: plainSeed });
  const known = (await driver.status()).find((v) => v.id === ID);
  assert.deepEqual([known?.node, known?.state], [DEPOT_NODE, 'suspended']);
  for (const [node, says] of [['node-c', /node 'node-c' shares no depot/], ['node-d', /node 'node-d' shares depot f{32}, another one/], ['node-a', /agent of node 'node-a' is not connected/]] as const) {
    await assert.rejects(driver.migrate(ID, node), (e: unknown) => e instanceof DriverError && says.test(e.message), `migrate to ${node}`);
  }
  await assert.rejects(driver.resume(ID), /is parked in a depot: migrate it to a node that shares the depot first/);

  const unparkStarted = Date.now();
  const there: VmStatus = await driver.migrate(ID, 'node-b');
  const unparkMs = Date.now() - unparkStarted;
  assert.deepEqual([there.node, there.state], ['node-b', 'suspended']);
  assert.deepEqual(readdirSync(join(depot, 'vms')), [], 'the depot holds nothing more');
  await driver.resume(ID);
  const after = await counter(fabric.namespaces[1]);
  assert.ok(after >= atSave, `the guest's counter went on from ${atSave} (read ${after}), not from 1: its memory came through the depot`);

  await driver.stop(ID, { graceful: false });
  assert.deepEqual((await driver.status()).filter((v) => v.id === ID), []);
  assert.deepEqual([...qemuPids(fabric.namespaces[1]), ...vmLeftovers(join(dir, 'agent-1'))], [], 'node-b is left empty');
  await driver.close();
  const saveMs = timings.find((x) => x.op === 'suspend')?.ms;
  process.stdout.write(`# depot: ${MEMORY_MIB} MiB VM: suspend ${saveMs} ms + park = ${suspendAndParkMs} ms; unpark (prepare image, take, rebase, seed) ${unparkMs} ms; entry files ${JSON.stringify(bytes)}\n`);
});
