// The service's cluster address book under any sequence of clusters, members, nodes and releases:
// live clusters have distinct numbers, VNIs and disjoint subnets; every address is inside its
// cluster's subnet and taken once; MACs are unique across all clusters; a restarted service reads
// the same answers back; a released cluster's number is reused.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { normalizeMac, parseIpv4, Subnet } from '../../../src/agent/network/addresses.ts';
import { ClusterAddressBook, memberMac, networksOverlap } from '../../../src/drivers/qemu/cluster-address-book.ts';

const OPTIONS = { range: '10.200.0.0/22', clusterPrefix: 24, vniBase: 7000 };

type Op = { kind: 'member'; lease: number; vm: number } | { kind: 'node'; lease: number; node: number } | { kind: 'release'; lease: number } | { kind: 'leave'; lease: number; vm: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('member' as const), lease: fc.integer({ min: 0, max: 5 }), vm: fc.integer({ min: 0, max: 6 }) }),
  fc.record({ kind: fc.constant('node' as const), lease: fc.integer({ min: 0, max: 5 }), node: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant('release' as const), lease: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ kind: fc.constant('leave' as const), lease: fc.integer({ min: 0, max: 5 }), vm: fc.integer({ min: 0, max: 6 }) }),
);

test('live clusters never share a number, VNI, subnet, address or MAC, and a restart reads the same book', () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
      const dir = mkdtempSync(join(tmpdir(), 'vws-cab-'));
      try {
        const file = join(dir, 'clusters.json');
        let book = new ClusterAddressBook(OPTIONS, file);
        const live = new Map<string, { members: Map<string, { ip: string; mac: string }>; nodes: Map<string, string> }>();
        for (const [i, op] of ops.entries()) {
          const lease = `L${op.lease}`;
          // At most 4 clusters fit a /22 cut in /24s: a fifth is refused with the reason.
          if (op.kind !== 'release' && op.kind !== 'leave' && !live.has(lease) && live.size === 4) {
            assert.throws(() => book.cluster(lease), /no \/24 left/);
            continue;
          }
          if (op.kind === 'release') {
            book.release(lease);
            live.delete(lease);
          } else if (op.kind === 'leave') {
            book.releaseMember(lease, `vm${op.vm}`);
            live.get(lease)?.members.delete(`vm${op.vm}`);
          } else {
            const entry = live.get(lease) ?? { members: new Map(), nodes: new Map() };
            live.set(lease, entry);
            if (op.kind === 'member') entry.members.set(`vm${op.vm}`, book.member(lease, `vm${op.vm}`));
            else entry.nodes.set(`n${op.node}`, book.node(lease, `n${op.node}`));
          }
          if (i % 7 === 6) book = new ClusterAddressBook(OPTIONS, file); // the service restarts
        }
        const nets = [...live.keys()].map((l) => ({ lease: l, net: book.cluster(l) }));
        assert.equal(new Set(nets.map((n) => n.net.number)).size, nets.length, 'numbers distinct');
        assert.equal(new Set(nets.map((n) => n.net.vni)).size, nets.length, 'VNIs distinct');
        const macs = new Set<string>();
        for (const { lease, net } of nets) {
          assert.equal(net.vni, OPTIONS.vniBase + net.number);
          const subnet = new Subnet(net.cidr.replace(/\.0\/24$/, '.1'), net.prefix);
          assert.equal(subnet.cidr, net.cidr);
          const entry = live.get(lease)!;
          const addresses = [...[...entry.members.values()].map((m) => m.ip), ...entry.nodes.values()];
          assert.equal(new Set(addresses).size, addresses.length, `addresses of ${lease} taken once`);
          const context = book.contextAddress(lease);
          assert.equal(parseIpv4(context), subnet.network + 1, 'the context address is the subnet\'s first host');
          assert.ok(!addresses.includes(context), `${context} is no member's or node's: every member node's relay answers there`);
          for (const a of addresses) {
            const n = parseIpv4(a);
            assert.ok(n > subnet.network && n < subnet.broadcast, `${a} inside ${net.cidr}`);
          }
          for (const [vm, m] of entry.members) {
            assert.deepEqual(book.member(lease, vm), m, 'a member keeps its address and MAC');
            assert.equal(normalizeMac(m.mac), m.mac, 'a unicast MAC');
            assert.ok(!macs.has(m.mac), `MAC ${m.mac} unique`);
            macs.add(m.mac);
          }
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
    { numRuns: 150 },
  );
});

test('settings are checked, and a book written with other settings is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-cab-'));
  try {
    const file = join(dir, 'clusters.json');
    assert.throws(() => new ClusterAddressBook({ ...OPTIONS, range: '10.200.0.0' }, file), /A\.B\.C\.D\/P/);
    assert.throws(() => new ClusterAddressBook({ ...OPTIONS, clusterPrefix: 20 }, file), /from 22 to 28/);
    assert.throws(() => new ClusterAddressBook({ ...OPTIONS, range: '10.0.0.0/8', clusterPrefix: 12 }, file), /from 16 to 28/);
    assert.throws(() => new ClusterAddressBook({ ...OPTIONS, vniBase: 2 ** 24 }, file), /VNI base/);
    new ClusterAddressBook(OPTIONS, file).cluster('L');
    assert.throws(() => new ClusterAddressBook({ ...OPTIONS, vniBase: 1 }, file), /keep those settings/);
    assert.equal(memberMac(0x123456, '10.200.3.77'), '0a:12:34:56:03:4d');
    assert.equal(networksOverlap('10.200.0.0/16', '10.77.0.0/24'), false);
    assert.equal(networksOverlap('10.200.0.0/16', '10.200.5.0/24'), true);
    assert.equal(networksOverlap('10.200.5.7/24', '10.0.0.0/8'), true);
    assert.equal(networksOverlap('10.200.0.0/16', '10.201.0.0/16'), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('vws serve --cluster-network reaches the pool, which refuses a range overlapping the VM network', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-cab-'));
  try {
    const { qemuPlugin } = await import('../../../src/drivers/qemu/plugin.ts');
    const store = {} as Parameters<typeof qemuPlugin.open>[0]['store'];
    await assert.rejects(qemuPlugin.open({ store, dataDir: join(dir, 'a'), vmNetwork: '10.77.0.0/24', clusterNetwork: '10.64.0.0/10' }), /cluster networks' range 10\.64\.0\.0\/10 overlaps the VM network 10\.77\.0\.0\/24/);
    await assert.rejects(qemuPlugin.open({ store, dataDir: join(dir, 'b'), clusterNetwork: '10.201.0.0/25' }), /a cluster's prefix must be an integer from 25 to 28/);
    const opened = await qemuPlugin.open({ store, dataDir: join(dir, 'c'), clusterNetwork: '172.20.0.0/16' });
    assert.ok(opened.driver);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nodes counting down from the top of a full subnet stop above the context address', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-cab-'));
  try {
    const book = new ClusterAddressBook({ ...OPTIONS, clusterPrefix: 28 }, join(dir, 'clusters.json'));
    const nodes = Array.from({ length: 13 }, (_, i) => book.node('L', `n${i}`));
    assert.equal(book.contextAddress('L'), '10.200.0.1');
    assert.equal(nodes.at(-1), '10.200.0.2', 'the last host a node may take');
    assert.throws(() => book.node('L', 'n13'), /no address left for n13/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
