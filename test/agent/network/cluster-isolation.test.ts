// Two clusters across two nodes (namespaces joined by a veth underlay), one real guest of each
// cluster on each node, each on its cluster's private network only. Both clusters are given the
// same subnet on purpose: the other cluster's members are then on-link for a guest, and only the
// separation of the L2 networks (a bridge and a VNI per cluster) keeps them apart, not routing.
// Each guest pings its own cluster's member on the other node (over VXLAN), the other cluster's
// members on both nodes, and the node's own address on its bridge.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ClusterNetworks } from '../../../src/agent/network/cluster-networks.ts';
import { privateTapName } from '../../../src/agent/network/cluster-spec.ts';
import { Commands } from '../../../src/agent/network/commands.ts';
import { TapGuards } from '../../../src/agent/network/tap-guards.ts';
import { killAllIn, twoNodeFabric } from '../../support/netns.ts';
import { AWAIT, probeInitrd, probeResults, REACH } from './guest-probe.ts';
import { bootGuest, type Guest } from './sandbox.ts';

interface Vm {
  name: string;
  cluster: 1 | 2;
  node: 0 | 1;
  mac: string;
  ip: string;
}

const VMS: Vm[] = [
  { name: 'x0', cluster: 1, node: 0, mac: '52:54:00:c1:00:10', ip: '10.200.1.10' },
  { name: 'x1', cluster: 1, node: 1, mac: '52:54:00:c1:00:11', ip: '10.200.1.11' },
  { name: 'y0', cluster: 2, node: 0, mac: '52:54:00:c2:00:20', ip: '10.200.1.20' },
  { name: 'y1', cluster: 2, node: 1, mac: '52:54:00:c2:00:21', ip: '10.200.1.21' },
];
/** Each node's address on each cluster's bridge (distinct, since the subnets are the same). */
const nodeAddress = (cluster: number, node: number): string => `10.200.1.${254 - 2 * (cluster - 1) - node}`;

test('a guest reaches its own cluster on the other node and not the other cluster, on either node', { timeout: 300_000 }, async (t) => {
  const fabric = twoNodeFabric('ciso');
  const dir = mkdtempSync(join(tmpdir(), 'vws-ciso-'));
  chmodSync(dir, 0o755);
  const guests: Guest[] = [];
  t.after(async () => {
    for (const g of guests) await g.stop();
    for (const ns of fabric.namespaces) await killAllIn(ns);
    fabric.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  const nets = await Promise.all(
    fabric.namespaces.map(async (ns, i) => {
      const guards = await TapGuards.open(new Commands(ns), join(dir, `guards-${i}.json`), new Set());
      return ClusterNetworks.open({ netns: ns, dir: join(dir, `node-${i}`), guards });
    }),
  );

  for (const vm of VMS) {
    const peer = fabric.addresses[1 - vm.node];
    const spec = { number: vm.cluster, vni: 5000 + vm.cluster, nodeAddress: nodeAddress(vm.cluster, vm.node), prefix: 24, contextAddress: `10.200.1.${vm.cluster}`, local: fabric.addresses[vm.node], peers: [peer] };
    await nets[vm.node].join(spec, { tap: privateTapName(vm.name), mac: vm.mac, ip: vm.ip, hostname: vm.name });
  }

  for (const vm of VMS) {
    const own = VMS.find((o) => o.cluster === vm.cluster && o !== vm)!;
    const others = VMS.filter((o) => o.cluster !== vm.cluster);
    const script = [
      REACH,
      AWAIT,
      `await own-${own.name} ${own.ip}`,
      ...others.map((o) => `reach other-${o.name} ${o.ip}`),
      `reach node ${nodeAddress(vm.cluster, vm.node)}`,
      'echo "VWS-PROBE done yes"',
    ].join('\n');
    const initrd = probeInitrd(script, join(dir, `${vm.name}.initrd`));
    guests.push(bootGuest({ netns: fabric.namespaces[vm.node], dir }, vm.name, privateTapName(vm.name), vm.mac, { initrd }));
  }

  const results = await Promise.all(
    guests.map(async (g, i) => {
      // A deadline against a hung guest only: pings to unreachable members take their time.
      await g.waitForSerial(/VWS-PROBE done yes/, 240_000);
      return [VMS[i].name, probeResults(g.serial())] as const;
    }),
  );
  for (const [name, r] of results) {
    const vm = VMS.find((v) => v.name === name)!;
    const ready = /VWS-GUEST-READY ip=(\S+)/.exec(guests[VMS.indexOf(vm)].serial());
    assert.equal(ready?.[1], vm.ip, `${name} got its private address from its node's DHCP`);
    const own = VMS.find((o) => o.cluster === vm.cluster && o !== vm)!;
    assert.equal(r.get(`own-${own.name}`), 'reached', `${name} reaches ${own.name} of its cluster on the other node`);
    for (const o of VMS.filter((v) => v.cluster !== vm.cluster)) {
      assert.equal(r.get(`other-${o.name}`), 'unreachable', `${name} cannot reach ${o.name} of the other cluster (${o.ip})`);
    }
    assert.equal(r.get('node'), 'unreachable', `${name} cannot reach its node's services through the private network`);
  }
  // DHCP stays on its node: no node's dnsmasq heard a guest of the other node (the broadcast would
  // otherwise cross the VXLAN, and a server that does not know the MAC logs it as unanswered).
  for (const vm of VMS) {
    const log = readFileSync(join(dir, `node-${1 - vm.node}`, `cluster-${vm.cluster}`, 'dnsmasq.log'), 'utf8');
    assert.ok(!log.includes(vm.mac), `node ${1 - vm.node}'s DHCP server never heard ${vm.name} of node ${vm.node}`);
    assert.match(readFileSync(join(dir, `node-${vm.node}`, `cluster-${vm.cluster}`, 'dnsmasq.log'), 'utf8'), new RegExp(`DHCPACK\\(vwc${vm.cluster}\\) ${vm.ip.replace(/\./g, '\\.')} ${vm.mac}`), `${vm.name}'s own node served it`);
  }
  // The cross-cluster attempts were not merely unanswered: no frame of one cluster entered the
  // other's bridge, so neither node learned a MAC of the other cluster on a cluster bridge.
  for (const [i, ns] of fabric.namespaces.entries()) {
    for (const cluster of [1, 2] as const) {
      const fdb = new Commands(ns).exec('bridge', ['-j', 'fdb', 'show', 'br', `vwc${cluster}`]);
      const macs = (JSON.parse(await fdb) as Array<{ mac: string }>).map((e) => e.mac);
      for (const o of VMS.filter((v) => v.cluster !== cluster)) assert.ok(!macs.includes(o.mac), `node ${i}'s vwc${cluster} never saw ${o.name}'s MAC`);
    }
  }
});
