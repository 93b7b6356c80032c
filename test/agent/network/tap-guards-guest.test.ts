// The trusted networking layer with real guests on the node's bridge: an honest guest, and one that
// tries each forgery in turn (another address, another MAC, ARP claiming the honest guest's
// address) between honest pings. Each forgery is cut off (and counted by the rule that dropped
// it), while the forger's honest traffic before and after, and the honest guest, still pass.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { NodeNetwork, tapName } from '../../../src/agent/network/node-network.ts';
import { AWAIT, probeInitrd, probeResults, REACH } from './guest-probe.ts';
import { bootGuest, httpGet, sandbox, type Guest } from './sandbox.ts';

const GATEWAY = '10.77.0.1';
const honest = { vm: 'honest', mac: '52:54:00:77:00:0a', ip: '10.77.0.10' };
const forger = { vm: 'forger', mac: '52:54:00:77:00:0b', ip: '10.77.0.11' };
const FORGED_MAC = '52:54:00:66:66:66';
const FORGED_IP = '10.77.0.50';

const FORGER_SCRIPT = [
  REACH,
  AWAIT,
  `await honest-before ${GATEWAY}`,
  // 1. Another address, sent from while the guest still knows the gateway's MAC (so the forged
  // packets themselves go out, not only ARP requests naming the forged address).
  `ip addr add ${FORGED_IP}/24 dev eth0`,
  `reach other-address ${GATEWAY} ${FORGED_IP}`,
  `ip addr del ${FORGED_IP}/24 dev eth0`,
  // 2. Another MAC, with its own address.
  `ip link set eth0 address ${FORGED_MAC}`,
  `reach other-mac ${GATEWAY}`,
  `ip link set eth0 address ${forger.mac}`,
  // 3. ARP for the honest guest's address: the forger takes it on as well (so its kernel answers
  // requests for it) and announces it (arping binds to the address, so it must be there).
  `ip addr add ${honest.ip}/32 dev eth0`,
  `arping -U -c 3 -s ${honest.ip} -I eth0 ${honest.ip} >/dev/null 2>&1 && echo "VWS-PROBE arp-sent yes"`,
  `arping -A -c 3 -s ${honest.ip} -I eth0 ${honest.ip} >/dev/null 2>&1`,
  `ip addr del ${honest.ip}/32 dev eth0`,
  `await honest-after ${GATEWAY}`,
  'echo "VWS-PROBE done yes"',
].join('\n');

test('a guest that changes its address, its MAC or answers ARP for another is cut off; honest traffic passes', { timeout: 240_000 }, async (t) => {
  const box = sandbox('guards');
  const guests: Guest[] = [];
  t.after(async () => {
    for (const g of guests) await g.stop();
    await box.cleanup();
  });
  const net = await NodeNetwork.open({ netns: box.netns, bridge: 'vwsbr0', gateway: GATEWAY, prefix: 24, dir: join(box.dir, 'net') });
  for (const vm of [honest, forger]) {
    await net.addTap(tapName(vm.vm), { mac: vm.mac, ip: vm.ip });
    await net.setHost(vm.mac, vm.ip);
  }
  const h = bootGuest(box, 'honest', tapName(honest.vm), honest.mac);
  guests.push(h);
  await h.waitForSerial(/VWS-GUEST-READY ip=10\.77\.0\.10/, 120_000);
  // The node knows the honest guest's MAC before the forger starts claiming its address.
  assert.equal((await httpGet(box, honest.ip, '/ip')).trim(), honest.ip);
  const f = bootGuest(box, 'forger', tapName(forger.vm), forger.mac, { initrd: probeInitrd(FORGER_SCRIPT, join(box.dir, 'forger.initrd')) });
  guests.push(f);
  await f.waitForSerial(/VWS-PROBE done yes/, 180_000);

  const r = probeResults(f.serial());
  assert.equal(r.get('honest-before'), 'reached', 'the forger got its address by DHCP through its guard and reaches the node');
  assert.equal(r.get('other-address'), 'unreachable', 'with another address it is cut off');
  assert.equal(r.get('other-mac'), 'unreachable', 'with another MAC it is cut off');
  assert.equal(r.get('honest-after'), 'reached', 'back to its own MAC and address, it passes again');
  assert.equal(r.get('arp-sent'), 'yes', 'the forger did announce the honest guest\'s address');

  const neighbour = box.sh('ip', ['-j', 'neigh', 'show', honest.ip, 'dev', 'vwsbr0']);
  const [entry] = JSON.parse(neighbour) as Array<{ lladdr?: string }>;
  assert.equal(entry?.lladdr, honest.mac, "the node still sends the honest guest's address to the honest guest's MAC");
  assert.equal((await httpGet(box, honest.ip, '/ip')).trim(), honest.ip, 'and reaches the honest guest');
  assert.equal(box.sh('ip', ['neigh', 'show', FORGED_IP]).includes(FORGED_MAC), false);

  const drops = await net.guards.drops(tapName(forger.vm));
  assert.ok(drops['ip-other-address'] > 0, `the other address was dropped by its rule: ${JSON.stringify(drops)}`);
  assert.ok(drops['other-mac'] > 0, `the other MAC was dropped by its rule: ${JSON.stringify(drops)}`);
  assert.ok(drops['arp-other-ip'] > 0, `ARP for the honest guest's address was dropped by its rule: ${JSON.stringify(drops)}`);
  const honestDrops = await net.guards.drops(tapName(honest.vm));
  for (const rule of ['other-mac', 'arp-other-mac', 'arp-other-ip', 'ip-other-address']) {
    assert.equal(honestDrops[rule], 0, `nothing of the honest guest's was dropped by ${rule}`);
  }
  await net.tearDown();
});
