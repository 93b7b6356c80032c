// A cluster member's workload through the agent's VmParts, without booting it: a member on both
// networks gets a guarded public tap and a guarded private tap on its cluster's bridge (QEMU's
// command line has both NICs, matched by MAC); a private-only member has one NIC, on the private
// network; workloads with a bad private part are refused before anything is made for them; the
// last member leaving takes its cluster network down.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { privateTapName } from '../../../src/agent/network/cluster-spec.ts';
import { tapName } from '../../../src/agent/network/links.ts';
import { qemuCommand } from '../../../src/agent/qemu/qemu-argv.ts';
import type { ImageCache } from '../../../src/agent/images/image-cache.ts';
import { VmParts } from '../../../src/agent/vm-parts.ts';
import type { Workload } from '../../../src/drivers/qemu/protocol.ts';
import { sandbox } from './sandbox.ts';

const cluster = { number: 3, vni: 10_003, nodeAddress: '10.200.2.254', prefix: 24, contextAddress: '10.200.2.1', peers: ['10.98.0.2'] };

function member(index: number, networks: 'both' | 'private'): Workload {
  const id = `L${process.pid}/${index}`;
  return {
    vm: { id, leaseId: `L${process.pid}`, index, node: 'n1', cpu: 1, memoryMiB: 128, image: null, mac: `52:54:00:00:03:${10 + index}` },
    ip: `10.77.0.${10 + index}`,
    disk: null,
    boot: null,
    nics: [{ network: 'private', mac: `0a:00:00:03:02:${10 + index}`, ip: `10.200.2.${10 + index}`, hostname: `m${index}` }],
    cluster,
    ...(networks === 'private' ? { publicNic: false } : {}),
  };
}

test('cluster members get guarded public and private taps and both NICs; bad private parts are refused with nothing made', async (t) => {
  const box = sandbox('parts');
  t.after(() => box.cleanup());
  // The image cache is not reached: these workloads have no disk and no kernel to fetch.
  const parts = new VmParts({ data: box.dir, server: 'http://127.0.0.1:1', token: 't', bridge: 'vwsbr0', netns: box.netns, underlay: '10.98.0.1' }, {} as ImageCache, null);
  await parts.useNetwork({ bridgeAddress: '10.77.0.1', prefix: 24 }, [], () => undefined);
  const links = () => (JSON.parse(box.sh('ip', ['-j', 'link', 'show'])) as Array<{ ifname: string; master?: string }>).map((l) => `${l.ifname}${l.master ? `@${l.master}` : ''}`).sort();
  const chains = () => [...box.sh('nft', ['list', 'table', 'bridge', 'vws']).matchAll(/chain guard-(\S+) \{/g)].map((m) => m[1]).sort();

  const head = member(0, 'both');
  const config = await parts.configFor(head, join(box.dir, 'vm0'), true);
  assert.deepEqual(config.nic, { mac: head.vm.mac, tap: tapName(head.vm.id) }, 'the public NIC first');
  assert.deepEqual(config.moreNics, [{ mac: head.nics![0].mac, tap: privateTapName(head.vm.id) }], 'then the private one');
  const argv = qemuCommand(config, 'none', false).args.join(' ');
  assert.match(argv, new RegExp(`tap,id=net1,ifname=${privateTapName(head.vm.id)},`));
  assert.match(argv, /virtio-net-pci,netdev=net1,mac=0a:00:00:03:02:10,/);
  assert.ok(links().includes(`${privateTapName(head.vm.id)}@vwc3`) && links().includes(`${tapName(head.vm.id)}@vwsbr0`) && links().includes('vwx3@vwc3'));
  assert.deepEqual(chains(), [tapName(head.vm.id), privateTapName(head.vm.id)].sort(), 'both taps guarded');

  const worker = member(1, 'private');
  const wc = await parts.configFor(worker, join(box.dir, 'vm1'), true);
  assert.deepEqual(wc.nic, { mac: worker.nics![0].mac, tap: privateTapName(worker.vm.id) }, 'a private-only member has one NIC, the private one');
  assert.equal(wc.moreNics, undefined);
  assert.ok(!links().some((l) => l.startsWith(tapName(worker.vm.id))), 'and no public tap');

  const before = { links: links(), chains: chains() };
  const bad: Array<[string, Workload, RegExp]> = [
    ['two private NICs', { ...member(2, 'both'), nics: [...member(2, 'both').nics!, ...member(3, 'both').nics!] }, /exactly one private NIC/],
    ['a NIC without its network', { ...member(2, 'both'), cluster: undefined }, /exactly one private NIC/],
    ['a VNI out of range', { ...member(2, 'both'), cluster: { ...cluster, vni: 2 ** 24 } }, /VNI/],
    ['a peer that is not an address', { ...member(2, 'both'), cluster: { ...cluster, peers: ['node-b'] } }, /peer 0 of cluster network 3/],
    ['a private address outside the subnet', { ...member(2, 'both'), nics: [{ network: 'private', mac: '0a:00:00:03:02:12', ip: '10.77.0.12' }] }, /outside the bridge subnet/],
    ['a tap the agent would not name', { ...member(2, 'both'), nics: [{ ...member(2, 'both').nics![0], tap: 'vwp000' }] }, /private tap must be/],
    ['the public MAC twice', { ...member(2, 'both'), nics: [{ ...member(2, 'both').nics![0], mac: member(2, 'both').vm.mac }] }, /each NIC needs its own/],
    ['no NIC at all', { ...member(2, 'both'), nics: undefined, cluster: undefined, publicNic: false }, /neither a public nor a private NIC/],
    ['an address another member has', { ...member(2, 'both'), nics: [{ ...member(2, 'both').nics![0], ip: '10.200.2.10' }] }, /already has 0a:00:00:03:02:10/],
  ];
  for (const [what, w, message] of bad) await assert.rejects(parts.configFor(w, join(box.dir, 'vm2'), true), message, what);
  // The last case got as far as the private network: its public tap was made, and the host's
  // failed-start path (unplug) is what removes it, as for any start that fails part-way.
  await parts.unplug(member(2, 'both'));
  assert.deepEqual({ links: links(), chains: chains() }, before, 'nothing of the refused workloads is left');

  const noUnderlay = new VmParts({ data: join(box.dir, 'other'), server: 'http://127.0.0.1:1', token: 't', bridge: 'vwsbr1', netns: box.netns }, {} as ImageCache, null);
  await noUnderlay.useNetwork({ bridgeAddress: '10.78.0.1', prefix: 24 }, [], () => undefined);
  await assert.rejects(noUnderlay.configFor(member(4, 'both'), join(box.dir, 'vm4'), true), /no underlay address for VXLAN: start it with --underlay/);

  // Peers follow members; the last member leaving takes the network down.
  await parts.clusterPeers(3, ['10.98.0.2', '10.98.0.3']);
  await parts.unplugTap(head.vm.id);
  assert.ok(links().includes('vwc3'), 'a suspended member keeps its cluster network');
  await parts.unplug(head);
  await parts.unplug(worker);
  assert.ok(!links().some((l) => /^vw[cx]3/.test(l)), 'the cluster network is gone with its last member');
  await assert.rejects(parts.clusterPeers(3, []), /cluster network 3 is not on this node/);
});
