// A fuzz run over what the service may send an agent about cluster networks: any JSON value in any
// field of a cluster network spec, a member or a tap guard is either refused with an Error whose
// message names what was wrong, or accepted in a canonical form that is safe to put on an `ip`,
// `bridge` or `nft` command line (names of at most 15 safe bytes, dotted quads, ranges kept), and
// checking an accepted value again changes nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Subnet } from '../../../src/agent/network/addresses.ts';
import { checkClusterSpec, checkMember, clusterBridgeName, clusterVxlanName, MAX_VNI, type ClusterMember, type ClusterNetworkSpec } from '../../../src/agent/network/cluster-spec.ts';
import { checkGuard, type TapGuard } from '../../../src/agent/network/tap-guards.ts';

const DOTTED = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const SAFE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

const good: ClusterNetworkSpec = { number: 4, vni: 10_004, nodeAddress: '10.200.3.254', prefix: 24, contextAddress: '10.200.3.1', local: '10.98.0.1', peers: ['10.98.0.2'] };
const goodMember: ClusterMember = { tap: 'vwp0123456789', mac: '0a:00:00:04:03:0a', ip: '10.200.3.10', hostname: 'head' };

const octet = fc.integer({ min: -5, max: 300 });
const ipish = fc.oneof(fc.tuple(octet, octet, octet, octet).map((o) => o.join('.')), fc.constantFrom('10.98.0.2', '0.0.0.0', '127.0.0.1', '239.0.0.1', '255.255.255.255', '010.1.1.1', '1.2.3', ' 10.1.1.1', '10.1.1.1\n'));
const anything = fc.oneof(fc.jsonValue(), ipish, fc.string(), fc.integer(), fc.double(), fc.constant(undefined));

function refusedOrSafe(fn: () => unknown, check: (v: unknown) => void): void {
  let value: unknown;
  try {
    value = fn();
  } catch (e) {
    assert.ok(e instanceof Error, 'refusals are Errors');
    assert.ok(e.message.length > 10 && e.message.length < 600, `a message a person can read: ${e.message}`);
    return;
  }
  check(value);
}

const checkSpecOut = (v: unknown): void => {
  const s = v as ClusterNetworkSpec;
  assert.ok(Number.isInteger(s.number) && s.number >= 1 && SAFE_NAME.test(clusterBridgeName(s.number)) && SAFE_NAME.test(clusterVxlanName(s.number)));
  assert.ok(Number.isInteger(s.vni) && s.vni >= 1 && s.vni <= MAX_VNI);
  assert.ok(Number.isInteger(s.prefix) && s.prefix >= 8 && s.prefix <= 30);
  for (const a of [s.nodeAddress, s.contextAddress, s.local, ...s.peers]) assert.match(a, DOTTED);
  assert.ok(!s.peers.includes(s.local));
  const subnet = new Subnet(s.nodeAddress, s.prefix);
  assert.equal(subnet.guestAddress(s.contextAddress), s.contextAddress, 'the context address is a host of the subnet, not the node\'s');
  assert.deepEqual(checkClusterSpec(s), s, 'canonical: checking again changes nothing');
};

test('any value in any field of a cluster network spec is refused with a message or accepted safe and canonical', () => {
  const field = fc.constantFrom<keyof ClusterNetworkSpec>('number', 'vni', 'nodeAddress', 'prefix', 'contextAddress', 'local', 'peers');
  fc.assert(
    fc.property(field, anything, fc.array(ipish, { maxLength: 4 }), (key, value, peers) => {
      refusedOrSafe(() => checkClusterSpec({ ...good, [key]: value } as ClusterNetworkSpec), checkSpecOut);
      refusedOrSafe(() => checkClusterSpec({ ...good, peers }), checkSpecOut);
    }),
    { numRuns: 3000 },
  );
});

test('a context address outside the subnet, on the node\'s own address or not an address is refused naming it', () => {
  const cases: Array<[unknown, RegExp]> = [
    ['10.200.4.1', /context address of cluster network 4: .*10\.200\.4\.1 is outside the bridge subnet 10\.200\.3\.0\/24/],
    ['10.200.3.254', /context address of cluster network 4: .*is the gateway/],
    ['10.200.3.255', /context address of cluster network 4: .*broadcast/],
    ['10.200.3', /context address of cluster network 4: .*not an IPv4 address/],
    [undefined, /context address of cluster network 4 must be an IPv4 address string, got undefined/],
  ];
  for (const [contextAddress, message] of cases) assert.throws(() => checkClusterSpec({ ...good, contextAddress } as ClusterNetworkSpec), message);
  assert.throws(() => checkMember({ ...goodMember, ip: good.contextAddress }, new Subnet(good.nodeAddress, good.prefix), good.contextAddress), /member address 10\.200\.3\.1 is the cluster's context address/);
});

test('any value in any field of a member or a tap guard is refused with a message or accepted safe and canonical', () => {
  const subnet = new Subnet(good.nodeAddress, good.prefix);
  const memberField = fc.constantFrom<keyof ClusterMember>('tap', 'mac', 'ip', 'hostname');
  const guardField = fc.constantFrom<keyof TapGuard>('tap', 'mac', 'ip');
  const mac = fc.oneof(fc.stringMatching(/^[0-9a-fA-F:-]{0,18}$/), fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 }).map((b) => b.map((x) => x.toString(16).padStart(2, '0')).join(':')));
  fc.assert(
    fc.property(memberField, guardField, fc.oneof(anything, mac), (mk, gk, value) => {
      refusedOrSafe(() => checkMember({ ...goodMember, [mk]: value } as ClusterMember, subnet), (v) => {
        const m = v as ClusterMember;
        assert.match(m.tap, SAFE_NAME);
        assert.match(m.mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
        assert.equal(parseInt(m.mac.slice(0, 2), 16) & 1, 0, 'unicast');
        assert.match(m.ip, DOTTED);
        if (m.hostname !== undefined) assert.match(m.hostname, /^[A-Za-z0-9-]{1,63}$/);
        assert.deepEqual(checkMember(m, subnet), m);
      });
      refusedOrSafe(() => checkGuard({ tap: 'vwt0123456789', mac: '52:54:00:00:00:01', ip: '10.77.0.10', [gk]: value } as TapGuard), (v) => {
        const g = v as TapGuard;
        assert.match(g.tap, SAFE_NAME);
        assert.match(g.mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
        assert.match(g.ip, DOTTED);
        assert.deepEqual(checkGuard(g), g);
      });
    }),
    { numRuns: 3000 },
  );
});
