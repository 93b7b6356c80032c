// The node network's pure parts: tap names, address checks, the hosts and lease file formats, the
// lease watcher's rules for what is news, the DHCPRELEASE packet and dnsmasq's command line.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bridgeMac, normalizeMac, Subnet } from '../../../src/agent/network/addresses.ts';
import { formatDhcpHosts, parseDhcpHosts } from '../../../src/agent/network/dhcp-hosts.ts';
import { dhcpReleasePacket } from '../../../src/agent/network/dhcp-release.ts';
import { dnsmasqArgs, dnsmasqFiles } from '../../../src/agent/network/dnsmasq.ts';
import { activeLeases, LeaseWatcher, parseLeases } from '../../../src/agent/network/leases.ts';
import { tapName } from '../../../src/agent/network/node-network.ts';

test('tap names are stable, distinct and valid Linux interface names', () => {
  const names = new Set<string>();
  for (let lease = 0; lease < 2000; lease++) {
    for (const vm of [0, 1]) {
      const name = tapName(`lease-${lease}/${vm}`);
      assert.match(name, /^vwt[0-9a-f]{10}$/);
      assert.ok(name.length <= 15);
      names.add(name);
    }
  }
  assert.equal(names.size, 4000);
  assert.equal(tapName('lease-42/0'), tapName('lease-42/0'));
});

test('the subnet knows its network, mask and which addresses a guest may get', () => {
  const s = new Subnet('10.77.0.1', 24);
  assert.equal(s.cidr, '10.77.0.0/24');
  assert.equal(s.netmask, '255.255.255.0');
  assert.equal(s.guestAddress('10.77.0.254'), '10.77.0.254');
  assert.throws(() => s.guestAddress('10.77.1.2'), /outside the bridge subnet 10\.77\.0\.0\/24/);
  assert.throws(() => s.guestAddress('10.77.0.1'), /is the gateway/);
  assert.throws(() => s.guestAddress('10.77.0.0'), /network or broadcast/);
  assert.throws(() => s.guestAddress('10.77.0.010'), /not an IPv4 address/);
  assert.throws(() => s.guestAddress('10.77.0.256'), /not an IPv4 address/);
  assert.equal(new Subnet('192.168.5.130', 25).cidr, '192.168.5.128/25');
  assert.throws(() => new Subnet('10.0.0.1', 31), /prefix 31 must be an integer from 8 to 30/);
  assert.throws(() => new Subnet('10.77.0.255', 24), /network or broadcast address of 10\.77\.0\.0\/24/);
});

test('MACs are normalized to the lease file form; a bridge MAC is fixed and locally administered', () => {
  assert.equal(normalizeMac('52-54-00-AB-cd-EF'), '52:54:00:ab:cd:ef');
  assert.throws(() => normalizeMac('52:54:00:ab:cd'), /not six hex octets/);
  assert.throws(() => normalizeMac('ff:ff:ff:ff:ff:ff'), /multicast/);
  assert.equal(bridgeMac('vwsbr0'), bridgeMac('vwsbr0'));
  assert.match(bridgeMac('vwsbr0'), /^02(:[0-9a-f]{2}){5}$/);
  assert.notEqual(bridgeMac('vwsbr0'), bridgeMac('vwsbr1'));
});

test('the hosts file round-trips and skips comments', () => {
  const hosts = [{ mac: '52:54:00:00:00:01', ip: '10.77.0.2', hostname: 'vm-1' }, { mac: '52:54:00:00:00:02', ip: '10.77.0.3' }];
  const text = formatDhcpHosts(hosts);
  assert.match(text, /^# /);
  assert.ok(text.includes('52:54:00:00:00:01,10.77.0.2,vm-1\n52:54:00:00:00:02,10.77.0.3\n'));
  assert.deepEqual(parseDhcpHosts(text), hosts);
});

test('lease lines are parsed, expired and malformed ones skipped', () => {
  const text = [
    '1795616975 52:54:00:00:00:01 10.77.0.10 guest-a 01:52:54:00:00:00:01',
    '0 52:54:00:00:00:02 10.77.0.11 * *',
    '1000 52:54:00:00:00:03 10.77.0.12 * *',
    'duid 00:01:00:01:2c:2f:7c:3e:52:54:00:00:00:01',
    '1795616975 52:54:00:00:00', // cut short mid-write
  ].join('\n');
  assert.deepEqual(parseLeases(text)[0], { mac: '52:54:00:00:00:01', ip: '10.77.0.10', expires: 1795616975, hostname: 'guest-a' });
  assert.deepEqual([...activeLeases(text, 2000)], [
    ['52:54:00:00:00:01', '10.77.0.10'],
    ['52:54:00:00:00:02', '10.77.0.11'],
  ]);
});

test('the lease watcher reports new leases and changed addresses, not renewals or a half-written file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-leases-'));
  try {
    const file = join(dir, 'leases');
    const line = (mac: string, ip: string, expires = 4_000_000_000) => `${expires} ${mac} ${ip} * *\n`;
    writeFileSync(file, line('52:54:00:00:00:01', '10.77.0.10'));
    const watcher = new LeaseWatcher(file, 60_000);
    const seen: string[] = [];
    const stop = watcher.subscribe((mac, ip) => seen.push(`${mac} ${ip}`));

    watcher.poll();
    assert.deepEqual(seen, [], 'a lease held before watching is not news');
    writeFileSync(file, line('52:54:00:00:00:01', '10.77.0.10') + line('52:54:00:00:00:02', '10.77.0.11'));
    watcher.poll();
    assert.deepEqual(seen, ['52:54:00:00:00:02 10.77.0.11']);
    writeFileSync(file, line('52:54:00:00:00:01', '10.77.0.10', 4_000_000_500) + line('52:54:00:00:00:02', '10.77.0.11'));
    watcher.poll();
    assert.equal(seen.length, 1, 'a renewal at the same address is not news');

    writeFileSync(file, ''); // dnsmasq truncated the file and has not written it yet
    watcher.poll();
    writeFileSync(file, line('52:54:00:00:00:01', '10.77.0.10') + line('52:54:00:00:00:02', '10.77.0.11'));
    watcher.poll();
    assert.equal(seen.length, 1, 'leases missing from one read were not taken again');

    writeFileSync(file, line('52:54:00:00:00:02', '10.77.0.12'));
    watcher.poll();
    assert.deepEqual(seen.slice(1), ['52:54:00:00:00:02 10.77.0.12'], 'a new address is news');
    watcher.poll();
    writeFileSync(file, line('52:54:00:00:00:01', '10.77.0.10') + line('52:54:00:00:00:02', '10.77.0.12'));
    watcher.poll();
    assert.deepEqual(seen.slice(2), ['52:54:00:00:00:01 10.77.0.10'], 'a lease gone from two reads and taken again is news');

    watcher.forget('52:54:00:00:00:02');
    watcher.poll();
    assert.deepEqual(seen.slice(3), ['52:54:00:00:00:02 10.77.0.12'], 'a forgotten MAC is news again');
    stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a DHCPRELEASE carries the address, the MAC and the server identifier', () => {
  const p = dhcpReleasePacket('52:54:00:ab:cd:ef', '10.77.0.10', '10.77.0.1');
  assert.equal(p[0], 1, 'BOOTREQUEST');
  assert.deepEqual([...p.subarray(12, 16)], [10, 77, 0, 10], 'ciaddr');
  assert.deepEqual([...p.subarray(28, 34)], [0x52, 0x54, 0x00, 0xab, 0xcd, 0xef], 'chaddr');
  assert.deepEqual([...p.subarray(236)], [99, 130, 83, 99, 53, 1, 7, 54, 4, 10, 77, 0, 1, 255]);
});

test('dnsmasq serves only the hosts file on the bridge, without DNS', () => {
  const args = dnsmasqArgs('vwsbr0', new Subnet('10.77.0.1', 24), dnsmasqFiles('/var/lib/vws/net'));
  for (const a of ['--port=0', '--interface=vwsbr0', '--bind-interfaces', '--dhcp-range=10.77.0.0,static,255.255.255.0,1h', '--dhcp-hostsfile=/var/lib/vws/net/dhcp-hosts', '--pid-file=/var/lib/vws/net/dnsmasq.pid']) {
    assert.ok(args.includes(a), a);
  }
});
