// The service side of cluster networks, with the agents' hub replaced by a recorder (a unit test
// of what the driver asks of agents; the agents' side is tested with real networks in
// test/agent/network): members get their private NIC and network, nodes that hold members learn
// each new member's node before it starts and lose a node when its last member stops, the last
// member's stop frees the cluster's network, and a node without an underlay address is refused.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { VmSpec, VmStatus } from '../../../src/drivers/driver.ts';
import { AddressBook } from '../../../src/drivers/qemu/address-book.ts';
import { AgentDriver } from '../../../src/drivers/qemu/agent-driver.ts';
import type { AgentHub } from '../../../src/drivers/qemu/agent-hub.ts';
import { ClusterAddressBook } from '../../../src/drivers/qemu/cluster-address-book.ts';
import type { Workload } from '../../../src/drivers/qemu/protocol.ts';
import type { Store } from '../../../src/store/store.ts';

interface Call {
  node: string;
  op: string;
  args: unknown;
}

function world() {
  const dir = mkdtempSync(join(tmpdir(), 'vws-cplans-'));
  const calls: Call[] = [];
  const hub = {
    call: (node: string, op: string, args: unknown) => {
      calls.push({ node, op, args });
      if (op === 'start') {
        const w = args as Workload;
        return Promise.resolve<VmStatus>({ id: w.vm.id, node, state: 'running', ip: w.ip, console: null });
      }
      if (op === 'suspend' || op === 'resume') {
        const { id } = args as { id: string };
        return Promise.resolve<VmStatus>({ id, node, state: op === 'suspend' ? 'suspended' : 'running', ip: null, console: null });
      }
      return Promise.resolve(null);
    },
    // The recorded nodes share no depot: a suspension stays on its node.
    report: () => undefined,
  } as unknown as AgentHub;
  const underlays = new Map([['n1', '10.98.0.1'], ['n2', '10.98.0.2']]);
  const book = new ClusterAddressBook({ range: '10.200.0.0/16', clusterPrefix: 24, vniBase: 10_000 }, join(dir, 'clusters.json'));
  const driver = new AgentDriver({
    hub, store: {} as Store, addresses: new AddressBook('10.77.0.0/24', join(dir, 'addresses.json')),
    clusters: { book, underlayOf: (n) => underlays.get(n) }, stateFile: join(dir, 'vms.json'),
  });
  return { dir, calls, driver, book, underlays };
}

const vm = (index: number, node: string, networks?: VmSpec['networks']): VmSpec => ({
  id: `C1/${index}`, leaseId: 'C1', index, node, cpu: 1, memoryMiB: 256, image: null, mac: `52:54:00:00:01:${10 + index}`, ...(networks ? { networks } : {}),
});

test('members get their private NIC and network; peers follow the members; the last stop frees the network', async (t) => {
  const w = world();
  // The driver writes its state file on the next turn of the event loop: let it, then clean up.
  t.after(async () => {
    await new Promise((resolve) => setImmediate(resolve));
    rmSync(w.dir, { recursive: true, force: true });
  });
  const started = (id: string) => w.calls.find((c) => c.op === 'start' && (c.args as Workload).vm.id === id)!.args as Workload;
  const peersCalls = () => w.calls.filter((c) => c.op === 'clusterPeers').map((c) => ({ node: c.node, ...(c.args as { number: number; peers: string[] }) }));

  await w.driver.start(vm(0, 'n1', ['public', 'private']));
  const head = started('C1/0');
  assert.equal(head.vm.mac, '52:54:00:00:01:10', 'a member on both networks keeps its public MAC');
  assert.equal(head.publicNic, undefined);
  assert.deepEqual(head.nics, [{ network: 'private', mac: '0a:00:00:01:00:0a', ip: '10.200.0.10' }]);
  assert.deepEqual(head.cluster, { number: 1, vni: 10_001, nodeAddress: '10.200.0.254', prefix: 24, contextAddress: '10.200.0.1', peers: [] });
  assert.deepEqual(peersCalls(), [{ node: 'n1', number: 1, peers: [] }], 'once it runs, its node is told the list: nobody else');

  w.calls.length = 0;
  await w.driver.start(vm(1, 'n2', ['private']));
  const worker = started('C1/1');
  assert.equal(worker.publicNic, false);
  assert.equal(worker.vm.mac, '0a:00:00:01:00:0b', "a private-only member's MAC is its private one");
  assert.equal(worker.ip, '10.200.0.11', 'and so is its address');
  assert.deepEqual(worker.cluster, { number: 1, vni: 10_001, nodeAddress: '10.200.0.253', prefix: 24, contextAddress: '10.200.0.1', peers: ['10.98.0.1'] }, "n2's own address on the subnet (one per node), the cluster's context address, flooding to n1");
  const startIndex = w.calls.findIndex((c) => c.op === 'start' && (c.args as Workload).vm.id === 'C1/1');
  const toldIndex = w.calls.findIndex((c) => c.op === 'clusterPeers' && c.node === 'n1');
  assert.ok(toldIndex >= 0 && toldIndex < startIndex, 'n1 learned of n2 before the member started there');
  assert.deepEqual(peersCalls(), [
    { node: 'n1', number: 1, peers: ['10.98.0.2'] },
    { node: 'n1', number: 1, peers: ['10.98.0.2'] }, { node: 'n2', number: 1, peers: ['10.98.0.1'] },
  ], 'and once it runs, every member node the exact list');

  // A member on a second node of its own would not share n2's node address.
  assert.notEqual(w.book.node('C1', 'n1'), w.book.node('C1', 'n2'));

  // A member resumed on its node rejoined the network from its saved workload: every member node
  // gets the exact list again.
  w.calls.length = 0;
  await w.driver.suspend('C1/1');
  await w.driver.resume('C1/1');
  assert.deepEqual(peersCalls(), [{ node: 'n1', number: 1, peers: ['10.98.0.2'] }, { node: 'n2', number: 1, peers: ['10.98.0.1'] }]);

  w.calls.length = 0;
  await w.driver.stop('C1/0', { graceful: false });
  assert.deepEqual(peersCalls(), [{ node: 'n2', number: 1, peers: [] }], 'n2 stops flooding to n1, which holds no member now');
  assert.ok(w.book.known('C1'), 'the cluster keeps its network while a member runs');
  await w.driver.stop('C1/1', { graceful: false });
  assert.equal(w.book.known('C1'), undefined, "the last member's stop frees the network number and subnet");

  // A public-only VM is untouched by all this.
  await w.driver.start({ ...vm(0, 'n1'), id: 'P1/0', leaseId: 'P1' });
  const plain = started('P1/0');
  assert.equal(plain.cluster, undefined);
  assert.equal(plain.nics, undefined);
});

test('a member on a node without an underlay address, or a service without cluster networks, is refused before anything starts', async (t) => {
  const w = world();
  // The driver writes its state file on the next turn of the event loop: let it, then clean up.
  t.after(async () => {
    await new Promise((resolve) => setImmediate(resolve));
    rmSync(w.dir, { recursive: true, force: true });
  });
  w.underlays.delete('n2');
  await assert.rejects(w.driver.start(vm(0, 'n2', ['private'])), /node 'n2' reports no underlay address for cluster networks: restart its agent with --underlay/);
  await w.driver.start(vm(1, 'n1', ['private']));
  w.underlays.set('n3', '10.98.0.3');
  // n2 holds no member (its start was refused), so a member on n3 needs no underlay of n2's.
  await w.driver.start({ ...vm(2, 'n3', ['private']) });
  assert.equal(w.calls.filter((c) => c.op === 'start').length, 2, 'the refused member never reached an agent');

  const plainDriver = new AgentDriver({ hub: {} as AgentHub, store: {} as Store, addresses: new AddressBook('10.77.0.0/24', join(w.dir, 'a2.json')), stateFile: join(w.dir, 'v2.json') });
  await assert.rejects(plainDriver.start(vm(3, 'n1', ['public', 'private'])), /no cluster networks configured/);
});

test("a member's seed names each of its NICs by network and MAC: both for a head, the private one alone for a private-only worker", async (t) => {
  const w = world();
  t.after(async () => {
    await new Promise((resolve) => setImmediate(resolve));
    rmSync(w.dir, { recursive: true, force: true });
  });
  const { plainSeed } = await import('../../../src/seed/plain-seed.ts');
  const driver = new AgentDriver({
    hub: {
      call: (node: string, op: string, args: unknown) => {
        w.calls.push({ node, op, args });
        return Promise.resolve(op === 'start' ? { id: (args as Workload).vm.id, node, state: 'running', ip: null, console: null } : null);
      },
    } as unknown as AgentHub,
    store: {} as Store, addresses: new AddressBook('10.77.0.0/24', join(w.dir, 'a3.json')),
    clusters: { book: w.book, underlayOf: (n) => w.underlays.get(n) }, stateFile: join(w.dir, 'v3.json'),
    seedFor: (vm, nics) => {
      w.calls.push({ node: vm.node, op: 'seed', args: { vm, nics } });
      return plainSeed(vm, nics);
    },
  });
  await driver.start(vm(0, 'n1', ['public', 'private']));
  await driver.start(vm(1, 'n2', ['private']));
  await driver.start({ ...vm(0, 'n1'), id: 'P2/0', leaseId: 'P2' });
  const seeds = w.calls.filter((c) => c.op === 'seed').map((c) => c.args as { vm: VmSpec; nics: unknown });
  assert.deepEqual(seeds[0].nics, [{ network: 'public', mac: '52:54:00:00:01:10' }, { network: 'private', mac: '0a:00:00:01:00:0a', contextAddress: '10.200.0.1' }]);
  assert.deepEqual(seeds[1].nics, [{ network: 'private', mac: '0a:00:00:01:00:0b', contextAddress: '10.200.0.1' }], 'the private NIC with its context address (where the seed points the context agent)');
  assert.equal(seeds[1].vm.mac, '0a:00:00:01:00:0b', "a private-only member's seed is made for its private MAC");
  assert.deepEqual(seeds[2].nics, [{ network: 'public', mac: '52:54:00:00:01:10' }]);
  const config = (id: string) => (w.calls.find((c) => c.op === 'start' && (c.args as Workload).vm.id === id)!.args as Workload).seed!.networkConfig;
  assert.match(config('C1/0'), /public:[\s\S]*macaddress: "?52:54:00:00:01:10"?[\s\S]*private:[\s\S]*macaddress: "?0a:00:00:01:00:0a"?/);
  assert.doesNotMatch(config('C1/1'), /public/);
  assert.match(config('C1/1'), /private:[\s\S]*macaddress: "?0a:00:00:01:00:0b"?/);
});

test('members started side by side, each before the other was known: once both run, each node floods to the other', async (t) => {
  const w = world();
  t.after(async () => {
    await new Promise((resolve) => setImmediate(resolve));
    rmSync(w.dir, { recursive: true, force: true });
  });
  // Both starts are in flight at once, as the service issues a cluster's starts.
  await Promise.all([w.driver.start(vm(0, 'n1', ['private'])), w.driver.start(vm(1, 'n2', ['private']))]);
  const last = new Map(w.calls.filter((c) => c.op === 'clusterPeers').map((c) => [c.node, (c.args as { peers: string[] }).peers]));
  assert.deepEqual(Object.fromEntries(last), { n1: ['10.98.0.2'], n2: ['10.98.0.1'] });
});
