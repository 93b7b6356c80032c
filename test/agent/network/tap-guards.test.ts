// Tap guards without guests: what the rule set says (property: every guard and only those get a
// chain and a jump), bad guards refused by field with nothing changed, and reconciling after an
// agent restart: guards of taps that are gone are removed, rules lost from the kernel come back.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import fc from 'fast-check';
import { Commands } from '../../../src/agent/network/commands.ts';
import { NodeNetwork, tapName } from '../../../src/agent/network/node-network.ts';
import { checkGuard, guardRuleset, TapGuards, type TapGuard } from '../../../src/agent/network/tap-guards.ts';
import { sandbox, type Sandbox } from './sandbox.ts';

const hex2 = fc.integer({ min: 0, max: 255 }).map((n) => n.toString(16).padStart(2, '0'));
const guardArb = fc.record({
  tap: fc.stringMatching(/^vw[tp][0-9a-f]{10}$/),
  mac: fc.tuple(hex2, hex2, hex2).map((o) => `52:54:00:${o.join(':')}`),
  ip: fc.tuple(fc.integer({ min: 1, max: 254 }), fc.integer({ min: 1, max: 254 })).map(([a, b]) => `10.77.${a}.${b}`),
});

test('the rule set has a chain and a jump for every guard and for nothing else, each naming its MAC and address', () => {
  fc.assert(
    fc.property(fc.uniqueArray(guardArb, { selector: (g) => g.tap, maxLength: 8 }), (guards) => {
      const text = guardRuleset(guards);
      const jumps = [...text.matchAll(/iifname "(vw[tp][0-9a-f]{10})" jump guard-(\S+)/g)];
      assert.deepEqual(jumps.map((m) => m[1]).sort(), guards.map((g) => g.tap).sort());
      for (const m of jumps) assert.equal(m[1], m[2]);
      const chains = text.split('  chain guard-').slice(1);
      assert.equal(chains.length, guards.length);
      for (const g of guards) {
        const chain = chains.find((c) => c.startsWith(`${g.tap} {`))!;
        assert.match(chain, new RegExp(`ether saddr != ${g.mac} counter drop`));
        assert.match(chain, new RegExp(`arp saddr ip != \\{ ${g.ip.replace(/\./g, '\\.')}, 0\\.0\\.0\\.0 \\}`));
        assert.match(chain, new RegExp(`ip saddr != ${g.ip.replace(/\./g, '\\.')} counter drop`));
      }
      // Written as one transaction that replaces the table whatever it held.
      assert.match(text, /^table bridge vws \{\}\ndelete table bridge vws\n/);
    }),
  );
});

test('bad guards are refused by field', () => {
  const good: TapGuard = { tap: 'vwt0123456789', mac: '52:54:00:00:00:01', ip: '10.77.0.10' };
  assert.deepEqual(checkGuard({ ...good, mac: '52-54-00-00-00-01'.toUpperCase() }), good);
  const bad: Array<[Partial<TapGuard>, RegExp]> = [
    [{ tap: 'vwt"; flush ruleset' }, /not a valid Linux interface name/],
    [{ tap: 'a'.repeat(16) }, /not a valid Linux interface name/],
    [{ mac: '01:00:5e:00:00:01' }, /multicast/],
    [{ mac: '52:54:00:00:00' }, /not six hex octets/],
    [{ ip: '10.77.0.256' }, /not an IPv4 address/],
    [{ ip: '0.0.0.0' }, /not a unicast host address/],
    [{ ip: '255.255.255.255' }, /not a unicast host address/],
    [{ ip: '224.0.0.1' }, /not a unicast host address/],
  ];
  for (const [change, message] of bad) assert.throws(() => checkGuard({ ...good, ...change }), message, JSON.stringify(change));
});

function setUp(t: TestContext): { box: Sandbox; dir: string } {
  const box = sandbox('guards');
  t.after(() => box.cleanup());
  return { box, dir: join(box.dir, 'net') };
}

const chains = (box: Sandbox): string[] => [...box.sh('nft', ['list', 'table', 'bridge', 'vws']).matchAll(/chain guard-(\S+) \{/g)].map((m) => m[1]).sort();

test('guards follow taps, a refused guard changes nothing, and a restart reconciles them with the taps that exist', async (t) => {
  const { box, dir } = setUp(t);
  const cfg = { netns: box.netns, bridge: 'vwsbr0', gateway: '10.77.0.1', prefix: 24, dir };
  const net = await NodeNetwork.open(cfg);
  const [a, b, c] = ['vm-a', 'vm-b', 'vm-c'].map(tapName);
  await net.addTap(a, { mac: '52:54:00:00:00:0a', ip: '10.77.0.10' });
  await net.addTap(b, { mac: '52:54:00:00:00:0b', ip: '10.77.0.11' });
  assert.deepEqual(chains(box), [a, b].sort());

  // Refused before anything is made: no tap, no chain.
  await assert.rejects(net.addTap(c, { mac: '52:54:00:00:00:0c', ip: '10.78.0.12' }), /outside the bridge subnet/);
  await assert.rejects(net.addTap(c, { mac: 'ff:ff:ff:ff:ff:ff', ip: '10.77.0.12' }), /multicast/);
  assert.equal(box.sh('ip', ['-o', 'link', 'show']).includes(c), false, 'no tap left by a refused guard');
  assert.deepEqual(chains(box), [a, b].sort());

  await net.removeTap(a);
  assert.deepEqual(chains(box), [b], 'the guard goes with its tap');

  // The agent dies; meanwhile b's tap vanishes and someone flushes the table; c's tap is made.
  await net.addTap(c, { mac: '52:54:00:00:00:0c', ip: '10.77.0.12' });
  box.sh('ip', ['link', 'del', b]);
  box.sh('nft', ['flush', 'table', 'bridge', 'vws']);
  const again = await NodeNetwork.open(cfg);
  assert.deepEqual(chains(box), [c], "b's guard is gone with its tap, c's is back");
  assert.deepEqual(again.guards.list().map((g) => g.tap), [c]);
  const drops = await again.guards.drops(c);
  assert.deepEqual(Object.keys(drops).sort(), ['arp-other-ip', 'arp-other-mac', 'ip-other-address', 'not-ipv4-or-arp', 'other-mac']);

  await again.tearDown();
  assert.throws(() => box.sh('nft', ['list', 'table', 'bridge', 'vws']), /No such file or directory/, 'the table is gone with the network');
  // A second TapGuards over the same record after tear-down starts empty.
  const fresh = await TapGuards.open(new Commands(box.netns), join(dir, 'tap-guards.json'), new Set());
  assert.deepEqual(fresh.list(), []);
  await fresh.tearDown();
});
