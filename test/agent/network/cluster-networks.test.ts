// Cluster networks on two nodes (namespaces joined by a veth underlay), without guests: the bridge,
// VXLAN device and FDB entries each node gets, peers that follow the members, adoption by a
// restarted agent, tear-down with the last member, and bad input refused with nothing left made.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ClusterNetworks } from '../../../src/agent/network/cluster-networks.ts';
import { clusterBridgeName, clusterVxlanName, privateTapName, type ClusterNetworkSpec } from '../../../src/agent/network/cluster-spec.ts';
import { Commands } from '../../../src/agent/network/commands.ts';
import { isRunning } from '../../../src/agent/network/processes.ts';
import { TapGuards } from '../../../src/agent/network/tap-guards.ts';
import { killAllIn, twoNodeFabric } from '../../support/netns.ts';

interface Node {
  ns: string;
  dir: string;
  guards: TapGuards;
  nets: ClusterNetworks;
}

const sh = (ns: string, program: string, args: string[]): string => execFileSync('ip', ['netns', 'exec', ns, program, ...args], { encoding: 'utf8' });

async function twoNodes(t: TestContext, tag: string): Promise<{ nodes: [Node, Node]; addresses: [string, string] }> {
  const fabric = twoNodeFabric(tag);
  const dirs = fabric.namespaces.map(() => mkdtempSync(join(tmpdir(), `vws-${tag}-`)));
  t.after(async () => {
    for (const ns of fabric.namespaces) await killAllIn(ns);
    fabric.destroy();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const nodes = await Promise.all(
    fabric.namespaces.map(async (ns, i) => {
      chmodSync(dirs[i], 0o755);
      const guards = await TapGuards.open(new Commands(ns), join(dirs[i], 'tap-guards.json'), new Set());
      return { ns, dir: dirs[i], guards, nets: await ClusterNetworks.open({ netns: ns, dir: dirs[i], guards }) };
    }),
  );
  return { nodes: nodes as [Node, Node], addresses: fabric.addresses };
}

const specOf = (n: number, nodeAddress: string, local: string, peers: string[]): ClusterNetworkSpec => ({ number: n, vni: 1000 + n, nodeAddress, prefix: 24, contextAddress: nodeAddress.replace(/\.\d+$/, '.1'), local, peers });

function vxlan(ns: string, n: number): { id: number; local: string; master: string; mtu: number } | undefined {
  const [l] = JSON.parse(sh(ns, 'ip', ['-j', '-d', 'link', 'show', 'dev', clusterVxlanName(n)]).trim() || '[]') as Array<{ mtu: number; master: string; linkinfo: { info_data: { id: number; local: string } } }>;
  return l && { id: l.linkinfo.info_data.id, local: l.linkinfo.info_data.local, master: l.master, mtu: l.mtu };
}

const peersOf = (ns: string, n: number): string[] =>
  (JSON.parse(sh(ns, 'bridge', ['-j', 'fdb', 'show', 'dev', clusterVxlanName(n)])) as Array<{ mac: string; dst?: string }>)
    .filter((e) => e.mac === '00:00:00:00:00:00')
    .map((e) => e.dst!)
    .sort();

const bridgeAddresses = (ns: string, n: number): string[] =>
  (JSON.parse(sh(ns, 'ip', ['-j', 'addr', 'show', 'dev', clusterBridgeName(n)])) as Array<{ addr_info: Array<{ family: string; local: string; prefixlen: number }> }>)[0]
    .addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);

const linkNames = (ns: string): string[] => (JSON.parse(sh(ns, 'ip', ['-j', 'link', 'show'])) as Array<{ ifname: string }>).map((l) => l.ifname);

test('each node gets the cluster bridge, its VXLAN port with the VNI and the peers; a restart adopts; the last member leaving tears it down', async (t) => {
  const { nodes: [a, b], addresses: [ua, ub] } = await twoNodes(t, 'cnet');
  const m = (vm: string, mac: string, ip: string) => ({ tap: privateTapName(vm), mac, ip });
  await a.nets.join(specOf(7, '10.200.7.254', ua, [ub]), m('c7/0', '52:54:00:07:00:0a', '10.200.7.10'));
  await b.nets.join(specOf(7, '10.200.7.253', ub, [ua]), m('c7/1', '52:54:00:07:00:0b', '10.200.7.11'));
  await a.nets.join(specOf(8, '10.200.8.254', ua, []), m('c8/0', '52:54:00:08:00:0a', '10.200.8.10'));

  assert.deepEqual(vxlan(a.ns, 7), { id: 1007, local: ua, master: clusterBridgeName(7), mtu: 1450 });
  assert.deepEqual(vxlan(b.ns, 7), { id: 1007, local: ub, master: clusterBridgeName(7), mtu: 1450 });
  assert.deepEqual(peersOf(a.ns, 7), [ub]);
  assert.deepEqual(peersOf(a.ns, 8), [], 'a cluster with members on one node floods nowhere');
  assert.equal(vxlan(a.ns, 8)?.id, 1008);
  const guarded = a.guards.list().map((g) => g.tap).sort();
  assert.deepEqual(guarded, [privateTapName('c7/0'), privateTapName('c8/0')].sort(), 'every private tap is guarded');

  // Members move: peers follow, duplicates and order do not matter.
  await a.nets.setPeers(8, [ub, ub]);
  assert.deepEqual(peersOf(a.ns, 8), [ub]);
  await a.nets.setPeers(8, []);
  assert.deepEqual(peersOf(a.ns, 8), []);

  // Each node's bridge has its own address first (DHCP's) and the cluster's context address.
  assert.deepEqual(bridgeAddresses(a.ns, 7), ['10.200.7.254/24', '10.200.7.1/24']);
  assert.deepEqual(bridgeAddresses(b.ns, 7), ['10.200.7.253/24', '10.200.7.1/24']);

  // The agent restarts without closing anything: everything is adopted, a lost FDB entry and a
  // lost context address come back; a record written before clusters had a context address gets
  // its cluster's (the subnet's first host).
  sh(a.ns, 'bridge', ['fdb', 'del', '00:00:00:00:00:00', 'dev', clusterVxlanName(7), 'dst', ub]);
  sh(a.ns, 'ip', ['addr', 'del', '10.200.7.1/24', 'dev', clusterBridgeName(7)]);
  const old = join(a.dir, 'cluster-8', 'cluster.json');
  const record = JSON.parse(readFileSync(old, 'utf8')) as { spec: Partial<ClusterNetworkSpec> };
  delete record.spec.contextAddress;
  writeFileSync(old, JSON.stringify(record));
  sh(a.ns, 'ip', ['addr', 'del', '10.200.8.1/24', 'dev', clusterBridgeName(8)]);
  const guards2 = await TapGuards.open(new Commands(a.ns), join(a.dir, 'tap-guards.json'), new Set(linkNames(a.ns)));
  const again = await ClusterNetworks.open({ netns: a.ns, dir: a.dir, guards: guards2 });
  assert.deepEqual(again.list(), [7, 8]);
  assert.deepEqual(peersOf(a.ns, 7), [ub], 'the peer entry is restored');
  assert.equal(guards2.list().length, 2, 'the guards are reconciled, not lost');
  assert.deepEqual(bridgeAddresses(a.ns, 7), ['10.200.7.254/24', '10.200.7.1/24'], 'the context address is back');
  assert.deepEqual(bridgeAddresses(a.ns, 8), ['10.200.8.254/24', '10.200.8.1/24'], 'an older record gets its context address');

  // A suspended member keeps the network; the last member leaving takes it down.
  await again.unplug(8, privateTapName('c8/0'), '52:54:00:08:00:0a', false);
  assert.ok(linkNames(a.ns).includes(clusterBridgeName(8)));
  assert.ok(!linkNames(a.ns).includes(privateTapName('c8/0')));
  const pid = Number(sh(a.ns, 'cat', [join(a.dir, 'cluster-8', 'dnsmasq.pid')]).trim());
  await again.unplug(8, privateTapName('c8/0'), '52:54:00:08:00:0a', true);
  assert.ok(!linkNames(a.ns).includes(clusterBridgeName(8)) && !linkNames(a.ns).includes(clusterVxlanName(8)), 'bridge and VXLAN gone');
  assert.equal(isRunning(pid), false, "the cluster's dnsmasq stopped");
  assert.equal(existsSync(join(a.dir, 'cluster-8')), false);
  assert.deepEqual(again.list(), [7]);
  assert.ok(linkNames(a.ns).includes(clusterBridgeName(7)), 'other clusters untouched');
  assert.deepEqual(guards2.list().map((g) => g.tap), [privateTapName('c7/0')]);
});

test('bad cluster input is refused by field, and a refused first join leaves nothing made', async (t) => {
  const { nodes: [a], addresses: [ua, ub] } = await twoNodes(t, 'cbad');
  const good = specOf(9, '10.200.9.254', ua, [ub]);
  const member = { tap: privateTapName('c9/0'), mac: '52:54:00:09:00:0a', ip: '10.200.9.10' };
  const before = linkNames(a.ns);
  const cases: Array<[string, ClusterNetworkSpec, typeof member, RegExp]> = [
    ['VNI 0', { ...good, vni: 0 }, member, /VNI of cluster network 9 0 must be an integer from 1 to 16777215/],
    ['VNI over 24 bits', { ...good, vni: 2 ** 24 }, member, /VNI/],
    ['fractional number', { ...good, number: 1.5 }, member, /cluster network number 1.5/],
    ['number too large for a name', { ...good, number: 1e8 }, member, /cluster network number/],
    ['peer not an address', { ...good, peers: ['10.98.0.2; reboot'] }, member, /peer 0 of cluster network 9/],
    ['peer is multicast', { ...good, peers: ['239.1.1.1'] }, member, /not a unicast address/],
    ['peer is this node', { ...good, peers: [ua] }, member, /own address/],
    ['too many peers', { ...good, peers: Array.from({ length: 1025 }, (_, i) => `10.1.${i >> 8}.${(i & 255) + 1}`) }, member, /at most 1024/],
    ['loopback underlay', { ...good, local: '127.0.0.1' }, member, /underlay address/],
    ['tap without the private prefix', good, { ...member, tap: 'vwt0123456789' }, /must be named vwp/],
    ['tap name too long', good, { ...member, tap: 'vwp0123456789abcdef' }, /not a valid Linux interface name/],
    ['multicast MAC', good, { ...member, mac: '01:00:5e:00:00:01' }, /multicast/],
    ['address outside the subnet', good, { ...member, ip: '10.200.10.10' }, /outside the bridge subnet/],
    ['address is the node', good, { ...member, ip: '10.200.9.254' }, /gateway/],
    ['address is the context address', good, { ...member, ip: '10.200.9.1' }, /is the cluster's context address/],
    ['context address outside the subnet', { ...good, contextAddress: '10.200.10.1' }, member, /context address of cluster network 9: .*outside/],
    ['context address is the node', { ...good, contextAddress: '10.200.9.254' }, member, /context address of cluster network 9: .*gateway/],
  ];
  for (const [what, spec, m, message] of cases) {
    await assert.rejects(a.nets.join(spec, m), message, what);
  }
  // A command that fails part-way (the VXLAN name is taken by another kind of device).
  sh(a.ns, 'ip', ['link', 'add', clusterVxlanName(9), 'type', 'bridge']);
  await assert.rejects(a.nets.join(good, member), /vwx9 exists but is not a VXLAN device/);
  sh(a.ns, 'ip', ['link', 'del', clusterVxlanName(9)]);
  assert.deepEqual(linkNames(a.ns), before, 'no bridge, VXLAN or tap left behind');
  assert.deepEqual(a.nets.list(), []);
  assert.deepEqual(a.guards.list(), []);
  assert.equal(existsSync(join(a.dir, 'cluster-9')), false);
  // And after all that the good request works.
  await a.nets.join(good, member);
  assert.deepEqual(a.nets.list(), [9]);
});

test('the underlay takes a cluster\'s VXLAN only from its peers: a node that is not one is dropped before the bridge, other VNIs pass', async (t) => {
  const { nodes: [a, b], addresses: [ua, ub] } = await twoNodes(t, 'cund');
  const m = (vm: string, mac: string, ip: string) => ({ tap: privateTapName(vm), mac, ip });
  await a.nets.join(specOf(9, '10.200.9.254', ua, [ub]), m('c9/0', '52:54:00:09:00:0a', '10.200.9.10'));
  await b.nets.join(specOf(9, '10.200.9.253', ub, [ua]), m('c9/1', '52:54:00:09:00:0b', '10.200.9.11'));
  // b's bridge asks for an address on the cluster's subnet: its ARP broadcast floods to a over VXLAN.
  const send = (): void => {
    try {
      sh(b.ns, 'busybox', ['ping', '-c', '2', '-W', '1', '-I', clusterBridgeName(9), '10.200.9.77']);
    } catch {
      // nobody has that address: only the frames sent matter
    }
  };
  send();
  assert.equal(await a.nets.underlayDrops(), 0, 'a peer\'s VXLAN passes');
  // A member resumed from its saved workload, whose peers are as they were at its start (none):
  // the network keeps the peers the service set since.
  await a.nets.unplug(9, privateTapName('c9/0'), '52:54:00:09:00:0a', false);
  await a.nets.join(specOf(9, '10.200.9.254', ua, []), m('c9/0', '52:54:00:09:00:0a', '10.200.9.10'));
  assert.deepEqual(peersOf(a.ns, 9), [ub], 'a resumption does not put back the peers of its start');
  send();
  assert.equal(await a.nets.underlayDrops(), 0, 'nor refuse the peer\'s VXLAN');
  // b holds no member of cluster 9 any more as far as a knows: its packets for VNI 1009 are dropped.
  await a.nets.setPeers(9, []);
  send();
  const dropped = await a.nets.underlayDrops();
  assert.ok(dropped > 0, `a non-peer's VXLAN for the cluster's VNI is dropped (${dropped})`);
  // Another overlay's VNI on the same port is not ours to filter: its ping is answered.
  for (const [ns, local, remote, address] of [[a.ns, ua, ub, '192.168.42.1/24'], [b.ns, ub, ua, '192.168.42.2/24']]) {
    sh(ns, 'ip', ['link', 'add', 'othervx', 'type', 'vxlan', 'id', '4242', 'dstport', '4789', 'local', local, 'remote', remote]);
    sh(ns, 'ip', ['addr', 'add', address, 'dev', 'othervx']);
    sh(ns, 'ip', ['link', 'set', 'othervx', 'up']);
  }
  assert.match(sh(b.ns, 'busybox', ['ping', '-c', '1', '-W', '5', '192.168.42.1']), /1 packets received/, 'VXLAN for a VNI that is no cluster\'s passes');
  // The last cluster gone: the table goes with it.
  await a.nets.unplug(9, privateTapName('c9/0'), '52:54:00:09:00:0a', true);
  assert.throws(() => sh(a.ns, 'nft', ['list', 'table', 'inet', 'vws-underlay']), 'the underlay table is removed with the last cluster');
});
