// The driver contract (driver-contract.ts) against the real QEMU driver: an AgentDriver whose
// calls cross a real loopback WebSocket to two in-process NodeAgents, each over a QemuHost that
// boots the project's test guest under QEMU in a network namespace of its own (a bridge, taps and
// a dnsmasq there). The two namespaces are joined by a veth for live migrations; suspended VMs go
// from agent to agent over TCP on 127.0.0.1, as `vws agent --transfer-address 127.0.0.1` does.
//
// One fabric, API server and pair of agents serve the whole file (each agent keeps its image
// cache, so the guest is fetched once per node); every test gets a driver of its own that knows
// no VMs yet. The agents' channels end in a hub wired as AgentPool wires it (hello: the node's
// report and network plan; vm: what the driver hears), but without the lease service: its
// reconciler stops every VM no lease wants whenever an agent says hello, and the contract's VMs
// belong to no lease. The API server is the real one (buildServer): it accepts the agents with an
// administrator's token and serves the images they fetch, registered and uploaded as `vws image
// add` does.

import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildTestGuest } from '../../../guest/build.ts';
import { NodeAgent } from '../../../src/agent/node-agent.ts';
import { QemuHost } from '../../../src/agent/qemu-host.ts';
import { waitUntil } from '../../../src/agent/network/wait-until.ts';
import { bootstrapAdmin } from '../../../src/api/auth.ts';
import { buildServer } from '../../../src/api/server.ts';
import { AddressBook } from '../../../src/drivers/qemu/address-book.ts';
import { AgentDriver } from '../../../src/drivers/qemu/agent-driver.ts';
import { AgentHub } from '../../../src/drivers/qemu/agent-hub.ts';
import { wallClock } from '../../../src/control/clock.ts';
import { LeaseService } from '../../../src/control/lease-service.ts';
import { SimulatedDriver } from '../../../src/drivers/simulated/simulated-driver.ts';
import { configWith } from '../../../src/core/config.ts';
import { openSqliteStore } from '../../../src/store/sqlite-store.ts';
import type { Store } from '../../../src/store/store.ts';
import { killAllIn, twoNodeFabric, type TwoNodeFabric } from '../../support/netns.ts';
import { qemuPids, registerImage, taps, vmLeftovers } from '../../e2e/qemu-pool.ts';
import { driverContract } from '../driver-contract.ts';
import { plainSeed } from '../../../src/seed/plain-seed.ts';
import { ALL_CAPABILITIES } from '../../../src/drivers/capabilities.ts';
import { waitFor } from '../../support/wait.ts';
import { runEveryStep } from '../../support/teardown.ts';

const NODES = ['node-a', 'node-b'] as const;
const IMAGE = 'guest';
/** Only guards against a hang while setting up; nothing asserts how fast it was. */
const SETUP_DEADLINE_MS = 120_000;

interface Pool {
  dir: string;
  fabric: TwoNodeFabric;
  store: Store;
  /** The lease service buildServer needs: on a simulated driver of no nodes, it never meets the agents' VMs. */
  service: LeaseService;
  serviceDriver: SimulatedDriver;
  app: FastifyInstance;
  hub: AgentHub;
  addresses: AddressBook;
  hosts: QemuHost[];
  agents: NodeAgent[];
}

let pool: Partial<Pool> = {};
/** The driver of the test under way: what the agents report goes to it. */
let current: AgentDriver | null = null;
let driversMade = 0;
/** What a test left on the nodes after stopping everything it started (swept by its cleanup). */
const leftovers: string[] = [];

before(async () => {
  const guest = buildTestGuest();
  const dir = mkdtempSync(join(tmpdir(), 'vws-agent-contract-'));
  pool.dir = dir;
  // dnsmasq runs as nobody and must read its hosts file under the agents' data directories.
  chmodSync(dir, 0o755);
  pool.fabric = twoNodeFabric('adc');
  const store = await openSqliteStore(join(dir, 'vws.db'));
  pool.store = store;
  const admin = (await bootstrapAdmin(store, wallClock.now()))!;
  pool.addresses = new AddressBook('10.77.0.0/24', join(dir, 'service', 'addresses.json'));
  const addresses = pool.addresses;
  pool.hub = new AgentHub({ graceMs: 600_000, callTimeoutMs: 600_000 }, {
    hello: async (node, vms) => {
      current?.nodeReported(node.name, vms);
      return { bridgeAddress: addresses.node(node.name), prefix: addresses.prefix };
    },
    vm: (node, vm) => current?.heard(node, vm),
    timing: () => undefined,
    away: () => undefined,
  });
  pool.serviceDriver = new SimulatedDriver({});
  pool.service = await LeaseService.open({ store, driver: pool.serviceDriver, clock: wallClock, config: configWith({}) });
  pool.app = buildServer({ service: pool.service, store, version: 'test', blobDir: join(dir, 'service', 'blobs'), now: () => wallClock.now(), agents: pool.hub });
  await pool.app.listen({ host: '127.0.0.1', port: 0 });
  const server = `http://127.0.0.1:${(pool.app.server.address() as { port: number }).port}`;

  await registerImage(server, admin, 'guest-kernel', guest.kernel);
  await registerImage(server, admin, 'guest-initrd', guest.initrd);
  await registerImage(server, admin, IMAGE, guest.disk, { kernel: 'guest-kernel', initrd: 'guest-initrd', cmdline: guest.cmdline });

  pool.hosts = [];
  pool.agents = [];
  for (const [i, name] of NODES.entries()) {
    const data = join(dir, `agent-${i}`);
    mkdirSync(data, { mode: 0o755 });
    chmodSync(data, 0o755);
    const host = await QemuHost.open({
      data, server, token: admin,
      node: { name, cpu: 2, memoryMiB: 2048, diskMiB: 4096, transferAddress: '127.0.0.1', migrationAddress: pool.fabric.addresses[i] },
      imageCacheMiB: 1024, bridge: 'vwsbr0', netns: pool.fabric.namespaces[i],
    });
    pool.hosts.push(host);
    const agent = new NodeAgent({ server, token: admin, host, log: (line) => process.stderr.write(`agent ${name}: ${line}\n`) });
    pool.agents.push(agent);
    agent.start();
  }
  // Welcomed, with the node's bridge and dnsmasq up.
  await Promise.all(pool.agents.map((a) => a.connected()));
  const hub = pool.hub;
  await waitUntil(() => NODES.every((n) => hub.isConnected(n)) || undefined, SETUP_DEADLINE_MS, () => new Error(`the agents did not both connect: ${hub.connectedNodes().join(', ')}`));
});

after(async () => {
  current = null;
  const steps: Array<() => Promise<unknown> | unknown> = [
    ...(pool.agents ?? []).map((a) => () => a.stop()),
    ...(pool.hosts ?? []).map((h) => () => h.close()),
    () => pool.app?.close(),
    () => pool.service?.close(),
    () => pool.serviceDriver?.close(),
    () => pool.store?.close(),
    // Deleting a namespace does not end its processes: QEMU and dnsmasq are killed first.
    ...(pool.fabric?.namespaces ?? []).map((ns) => () => killAllIn(ns)),
    () => pool.fabric?.destroy(),
    () => pool.dir && rmSync(pool.dir, { recursive: true, force: true }),
  ];
  const failures = await runEveryStep(steps);
  pool = {};
  assert.deepEqual(failures, [], 'tearing the pool down');
});

/** What each node still holds: VMs its agent knows, QEMU processes and taps in its namespace, VM files. */
async function whatIsLeft(): Promise<string[]> {
  const left: string[] = [];
  for (const [i, host] of (pool.hosts ?? []).entries()) {
    const ns = pool.fabric!.namespaces[i];
    for (const vm of await host.status()) left.push(`${NODES[i]} has ${vm.id} (${vm.state})`);
    for (const pid of qemuPids(ns)) left.push(`${NODES[i]} runs QEMU ${pid}`);
    for (const tap of taps(ns)) left.push(`${NODES[i]} has tap ${tap}`);
    for (const file of vmLeftovers(join(pool.dir!, `agent-${i}`))) left.push(`${NODES[i]} keeps vms/${file}`);
  }
  return left;
}

/** Stops whatever a test left behind, so that the next one starts on empty nodes. */
async function sweep(): Promise<void> {
  for (const host of pool.hosts ?? []) {
    for (const vm of await host.status()) {
      await host.abandon({ id: vm.id }).catch(() => undefined);
      await host.stop({ id: vm.id, graceful: false }).catch(() => undefined);
    }
  }
  for (const ns of pool.fabric?.namespaces ?? []) {
    for (const pid of qemuPids(ns)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
}

driverContract('qemu on node agents', ALL_CAPABILITIES, async () => {
  assert.ok(pool.hub, 'the pool is up');
  const left = await whatIsLeft();
  assert.deepEqual(left, [], 'the nodes run nothing before the test');
  const n = ++driversMade;
  const driver = new AgentDriver({ hub: pool.hub, store: pool.store!, addresses: pool.addresses!, stateFile: join(pool.dir!, 'service', `driver-${n}.json`), seedFor: plainSeed });
  current = driver;
  return {
    driver,
    nodes: [...NODES],
    image: IMAGE,
    async cleanup() {
      if (current === driver) current = null;
      // A VM stops within its stop call; only a leak (or a failed test) leaves anything here.
      const found = await whatIsLeft();
      if (found.length > 0) {
        leftovers.push(`after test ${n}: ${found.join('; ')}`);
        await sweep();
        let still: string[] = [];
        await waitFor('the nodes to be empty after the sweep', async () => (still = await whatIsLeft()).length === 0, { everyMs: 100, seen: () => still });
      }
    },
  };
});

test('qemu on node agents: each test left the nodes empty once it had stopped its VMs', () => {
  assert.deepEqual(leftovers, []);
});
