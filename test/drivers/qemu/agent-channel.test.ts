// The agent channel over a real WebSocket on loopback: a NodeAgent dials a server that accepts
// agents into an AgentHub. The node's host is an in-memory stand-in (the QEMU host has its own
// tests); what is tested here is the channel: hello and welcome, calls and their answers,
// refusals, lost connections, reconnection and the grace period.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Fastify from 'fastify';
import { acceptAgents } from '../../../src/api/agent-channel.ts';
import { bootstrapAdmin, issueToken } from '../../../src/api/auth.ts';
import { type AgentHost, NodeAgent } from '../../../src/agent/node-agent.ts';
import type { NetworkPlan, NodeReport, Timing, Workload } from '../../../src/drivers/qemu/protocol.ts';
import { AgentHub, type HubListener } from '../../../src/drivers/qemu/agent-hub.ts';
import { DriverError, type VmStatus } from '../../../src/drivers/driver.ts';
import { openSqliteStore } from '../../../src/store/sqlite-store.ts';
import { waitFor } from '../../support/wait.ts';

const T = 1_800_000_000;

/** A node that keeps its VMs in a map: each call does the least that answers it. */
class MemoryHost implements AgentHost {
  readonly vms = new Map<string, VmStatus>();
  networks: NetworkPlan[] = [];
  private changed: (vm: VmStatus) => void = () => undefined;
  private timed: (t: Timing) => void = () => undefined;
  constructor(readonly name: string, readonly slowStop = false) {}
  node(): NodeReport {
    return { name: this.name, cpu: 4, memoryMiB: 8192, diskMiB: 100_000, transferAddress: '127.0.0.1', migrationAddress: '127.0.0.1' };
  }
  async useNetwork(plan: NetworkPlan): Promise<void> {
    this.networks.push(plan);
  }
  onChange(l: (vm: VmStatus) => void): void {
    this.changed = l;
  }
  onTiming(l: (t: Timing) => void): void {
    this.timed = l;
  }
  async prepareImages(): Promise<void> {}
  async start(w: Workload): Promise<VmStatus> {
    const vm: VmStatus = { id: w.vm.id, node: this.name, state: 'running', ip: null, console: null };
    this.vms.set(vm.id, vm);
    this.timed({ op: 'boot', memoryMiB: w.vm.memoryMiB, ms: 1234 });
    setImmediate(() => this.changed({ ...vm, ip: w.ip }));
    return vm;
  }
  async stop({ id }: { id: string }): Promise<void> {
    // A stop that never ends: the agent goes away while the call is pending.
    if (this.slowStop) await new Promise(() => undefined);
    this.vms.delete(id);
  }
  async suspend({ id }: { id: string }): Promise<VmStatus> {
    const vm = this.vms.get(id);
    if (vm?.state !== 'running') throw new DriverError(id, `is ${vm?.state ?? 'unknown'}: only a running VM can be suspended`);
    const suspended = { ...vm, state: 'suspended' as const };
    this.vms.set(id, suspended);
    return suspended;
  }
  async resume(): Promise<VmStatus> {
    throw new Error('not used here');
  }
  async status(): Promise<VmStatus[]> {
    return [...this.vms.values()];
  }
  receive = this.resume as never;
  send = this.resume as never;
  received = this.resume as never;
  incoming = this.resume as never;
  migrateLive = this.resume as never;
  arrived = this.resume as never;
  abandon = this.resume as never;
  workload = this.resume as never;
  clusterPeers = this.resume as never;
  park = this.resume as never;
  unpark = this.resume as never;
}

interface Heard {
  hellos: Array<{ node: NodeReport; vms: VmStatus[] }>;
  vms: VmStatus[];
  timings: Timing[];
  away: string[];
}

async function world(graceMs = 60_000) {
  const dir = mkdtempSync(join(tmpdir(), 'vws-agent-channel-'));
  const store = await openSqliteStore(join(dir, 'vws.db'));
  const admin = (await bootstrapAdmin(store, T))!;
  await store.putUser({ id: 'alice', name: 'alice', isAdmin: false, createdAt: T });
  const alice = (await issueToken(store, 'alice', 'laptop', T)).token;
  const heard: Heard = { hellos: [], vms: [], timings: [], away: [] };
  const listener: HubListener = {
    hello: async (node, vms) => {
      if (node.name === 'bad') throw new Error('node name bad is not welcome');
      heard.hellos.push({ node, vms });
      return { bridgeAddress: '10.77.0.254', prefix: 24 };
    },
    vm: (_node, vm) => heard.vms.push(vm),
    timing: (_node, t) => heard.timings.push(t),
    away: (node) => heard.away.push(node),
  };
  const hub = new AgentHub({ graceMs, callTimeoutMs: 30_000, pingMs: 200 }, listener);
  const app = Fastify();
  acceptAgents(app, hub, store, () => T);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as { port: number };
  const server = `http://127.0.0.1:${address.port}`;
  const agents: NodeAgent[] = [];
  const agent = (host: AgentHost, token = admin, log?: (l: string) => void): NodeAgent => {
    const a = new NodeAgent({ server, token, host, log: log ?? (() => undefined) });
    agents.push(a);
    a.start();
    return a;
  };
  return {
    hub, heard, admin, alice, agent,
    async close() {
      await Promise.all(agents.map((a) => a.stop()));
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const until = <T>(what: string, probe: () => T | undefined): Promise<T> => waitFor(what, probe, { everyMs: 10 });

test('an agent says hello with what it runs, gets its network plan, and answers calls', async () => {
  const w = await world();
  try {
    const host = new MemoryHost('n1');
    host.vms.set('l0/0', { id: 'l0/0', node: 'n1', state: 'running', ip: '10.77.0.10', console: null });
    const a = w.agent(host);
    await a.connected();
    assert.deepEqual(w.heard.hellos.map((h) => [h.node.name, h.vms.map((v) => v.id)]), [['n1', ['l0/0']]]);
    await until('the network plan', () => (host.networks.length ? true : undefined));
    assert.deepEqual(host.networks, [{ bridgeAddress: '10.77.0.254', prefix: 24 }]);
    assert.deepEqual(w.hub.connectedNodes(), ['n1']);
    const vm = { id: 'l1/0', leaseId: 'l1', index: 0, node: 'n1', cpu: 1, memoryMiB: 128, image: null, mac: '52:54:00:00:00:01' };
    const started = await w.hub.call('n1', 'start', { vm, ip: '10.77.0.11', disk: null, boot: null });
    assert.equal(started.state, 'running');
    await until('the address report', () => w.heard.vms.find((v) => v.id === 'l1/0' && v.ip === '10.77.0.11'));
    assert.deepEqual(w.heard.timings, [{ op: 'boot', memoryMiB: 128, ms: 1234 }]);
    assert.deepEqual((await w.hub.call('n1', 'status', {})).map((v) => v.id).sort(), ['l0/0', 'l1/0']);
  } finally {
    await w.close();
  }
});

test('a call the VM\'s state forbids comes back as a DriverError with the agent\'s reason', async () => {
  const w = await world();
  try {
    const a = w.agent(new MemoryHost('n1'));
    await a.connected();
    await assert.rejects(w.hub.call('n1', 'suspend', { id: 'x/0' }, 'x/0'), (e: unknown) => {
      assert.ok(e instanceof DriverError);
      assert.equal((e as DriverError).message, 'x/0: is unknown: only a running VM can be suspended');
      return true;
    });
    await assert.rejects(w.hub.call('nowhere', 'status', {}), /the agent of node 'nowhere' is not connected/);
  } finally {
    await w.close();
  }
});

test('agents without an administrator\'s token, or refused at hello, are not connected', async () => {
  const w = await world();
  try {
    const logs: string[] = [];
    w.agent(new MemoryHost('n1'), w.alice, (l) => logs.push(l));
    w.agent(new MemoryHost('bad'), w.admin, (l) => logs.push(l));
    await until('both refusals', () => (logs.some((l) => l.includes('403')) && logs.some((l) => l.includes('node name bad is not welcome')) ? true : undefined));
    assert.ok(logs.some((l) => l.includes("node agents need an administrator's token")), logs.join('\n'));
    assert.deepEqual(w.hub.connectedNodes(), []);
  } finally {
    await w.close();
  }
});

test('a lost agent fails its pending calls, and is reported away once its grace period is over', async () => {
  const w = await world(300);
  try {
    const a = w.agent(new MemoryHost('n1', true));
    await a.connected();
    const pending = assert.rejects(w.hub.call('n1', 'stop', { id: 'l/0', graceful: true }, 'l/0'), /the agent of node 'n1' went away during stop/);
    await a.stop();
    await pending;
    await until('the away report', () => (w.heard.away.length ? true : undefined));
    assert.deepEqual(w.heard.away, ['n1']);
  } finally {
    await w.close();
  }
});

test('an agent that comes back within its grace period replaces its old channel and is not reported away', async () => {
  const w = await world(1000);
  try {
    const first = w.agent(new MemoryHost('n1'));
    await first.connected();
    await first.stop();
    const host = new MemoryHost('n1');
    host.vms.set('kept/0', { id: 'kept/0', node: 'n1', state: 'running', ip: null, console: null });
    const second = w.agent(host);
    await second.connected();
    assert.deepEqual(w.heard.hellos.map((h) => h.vms.length), [0, 1]);
    assert.deepEqual((await w.hub.call('n1', 'status', {})).map((v) => v.id), ['kept/0']);
    // The fence: another node's agent goes away after n1's did, with the same grace period, so
    // n1's report, had its grace period not been called off, would have come first.
    const other = w.agent(new MemoryHost('n2'));
    await other.connected();
    await other.stop();
    await until('the away report of n2', () => (w.heard.away.includes('n2') ? true : undefined));
    assert.deepEqual(w.heard.away, ['n2']);
  } finally {
    await w.close();
  }
});
