// The node network with the real test guest: a guest on a tap gets exactly the address the service
// assigned its MAC, onLease reports it, and the node reaches it over TCP; a MAC with no assignment
// gets no address; a removed guest's address goes to the next MAC it is assigned to; tearDown
// leaves nothing behind.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isRunning } from '../../../src/agent/network/processes.ts';
import { NodeNetwork, tapName } from '../../../src/agent/network/node-network.ts';
import { waitUntil } from '../../../src/agent/network/wait-until.ts';
import { bootGuest, httpGet, READY_MARKER, sandbox, type Guest } from './sandbox.ts';

const BRIDGE = 'vwsbr0';
const READY = new RegExp(`${READY_MARKER} ip=(\\S+) mac=(\\S+)`);

test('guests get the assigned address and only assigned MACs get one; a released address is reassigned', { timeout: 180_000 }, async (t) => {
  const box = sandbox('guest');
  const guests: Guest[] = [];
  t.after(async () => {
    for (const g of guests) await g.stop();
    await box.cleanup();
  });

  const net = await NodeNetwork.open({ netns: box.netns, bridge: BRIDGE, gateway: '10.77.0.1', prefix: 24, dir: box.dir });
  const seen: Array<[string, string]> = [];
  net.onLease((mac, ip) => seen.push([mac, ip]));
  const leaseOf = (mac: string) =>
    waitUntil(() => seen.find(([m]) => m === mac)?.[1], 60_000, () => new Error(`onLease never reported ${mac}; seen ${JSON.stringify(seen)}`), 50);

  const assigned = { vm: `lease-${process.pid}/0`, mac: '52:54:00:77:00:0a', ip: '10.77.0.10' };
  const stranger = { vm: `lease-${process.pid}/1`, mac: '52:54:00:77:00:0b' };
  await net.addTap(tapName(assigned.vm));
  await net.addTap(tapName(stranger.vm));
  await net.setHost(assigned.mac, assigned.ip, 'guest-a');

  // Both boot at once: the stranger's failed DHCP overlaps the assigned guest's boot.
  const a = bootGuest(box, 'a', tapName(assigned.vm), assigned.mac);
  const b = bootGuest(box, 'b', tapName(stranger.vm), stranger.mac);
  guests.push(a, b);

  const ready = await a.waitForSerial(READY);
  assert.equal(ready[1], assigned.ip, 'the guest configured the assigned address');
  assert.equal(ready[2], assigned.mac);
  assert.equal(await leaseOf(assigned.mac), assigned.ip, 'onLease reported the lease');
  assert.equal(net.leases().get(assigned.mac), assigned.ip);
  assert.equal((await httpGet(box, assigned.ip, '/ip')).trim(), assigned.ip, 'HTTP from the node to the guest');

  // dnsmasq saw the stranger ask, more than once, and refused it: it is not merely slow to boot.
  const log = `${box.dir}/dnsmasq.log`;
  const refusals = () => readFileSync(log, 'utf8').split('\n').filter((l) => l.includes(`DHCPDISCOVER(${BRIDGE}) ${stranger.mac} no address available`)).length;
  await waitUntil(() => refusals() >= 3, 60_000, () => new Error(`dnsmasq logged ${refusals()} refusals of ${stranger.mac}`), 100);
  assert.equal(net.leases().has(stranger.mac), false, 'no lease for an unassigned MAC');
  assert.equal(b.serial().includes(READY_MARKER), false, 'the unassigned guest got no address');
  assert.equal(seen.some(([m]) => m === stranger.mac), false);

  // The first VM goes away; its address is assigned to the waiting guest, whose DHCP client retries.
  await a.stop();
  await net.removeTap(tapName(assigned.vm));
  await net.removeHost(assigned.mac);
  assert.equal(net.leases().has(assigned.mac), false, 'removeHost ended the lease');
  assert.match(readFileSync(log, 'utf8'), new RegExp(`DHCPRELEASE\\(${BRIDGE}\\) ${assigned.ip} ${assigned.mac}`), 'by a DHCPRELEASE');
  assert.equal(box.sh('ip', ['neigh', 'show', assigned.ip]).trim(), '', "and forgot the old guest's MAC for the address");
  await net.setHost(stranger.mac, assigned.ip);
  const readyB = await b.waitForSerial(READY);
  assert.equal(readyB[1], assigned.ip);
  assert.equal(await leaseOf(stranger.mac), assigned.ip);
  assert.equal((await httpGet(box, assigned.ip, '/ip')).trim(), assigned.ip);

  // Torn down under a running guest: its tap goes too.
  const pid = net.dnsmasqPid!;
  await net.tearDown();
  assert.equal(isRunning(pid), false, 'dnsmasq stopped');
  const links = box.sh('ip', ['-o', 'link', 'show']).trim().split('\n').map((l) => l.split(':')[1].trim());
  assert.deepEqual(links, ['lo'], 'no bridge and no tap left');
  assert.equal(net.leases().size, 0);
});
