// The underlay filter's text for a set of clusters: each VNI from its peers only; none when there
// are no clusters; bad input refused by field rather than written into a rule.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { underlayRuleset, UNDERLAY_DROP } from '../../../src/agent/network/underlay-guard.ts';

test('each cluster\'s VNI is dropped unless it comes from one of its peers; no clusters, no table', () => {
  assert.equal(underlayRuleset([]), null);
  const text = underlayRuleset([{ vni: 1009, peers: ['10.98.0.2', '10.98.0.2', '10.98.0.3'] }, { vni: 1001, peers: [] }])!;
  const rules = text.split('\n').filter((l) => l.includes(UNDERLAY_DROP)).map((l) => l.trim());
  assert.deepEqual(rules, [
    `udp dport 4789 @th,96,24 1001 counter drop comment "${UNDERLAY_DROP}"`,
    `udp dport 4789 @th,96,24 1009 ip saddr != { 10.98.0.2, 10.98.0.3 } counter drop comment "${UNDERLAY_DROP}"`,
  ]);
  assert.throws(() => underlayRuleset([{ vni: 0, peers: [] }]), /VNI 0 is not an integer from 1 to 16777215/);
  assert.throws(() => underlayRuleset([{ vni: 5, peers: ['10.0.0.1; drop'] }]), /peer of VNI 5/);
});
