// The site's terms (core/terms.ts, terms-document.ts): a document read strictly with the path of
// what is wrong, the check every request passes with the nearest request it would take instead,
// and a policy changed while the scheduler runs, which must keep every schedule sound.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { Scheduler } from '../../src/core/scheduler.ts';
import { readTerms, termsDocument } from '../../src/core/terms-document.ts';
import { configOfTerms, DEFAULT_TERMS, type KindTerms, LEASE_KINDS, type Terms, termsRefusal } from '../../src/core/terms.ts';
import type { LeaseRequest } from '../../src/core/types.ts';
import { scheduleLines } from '../../src/sim/schedule-export.ts';
import { configArb, describeScenario, scenarioArb } from './support/generators.ts';
import { checkSchedule } from './support/schedule-checker.ts';

const doc = (over: Record<string, unknown>) => ({ format: 'vws.terms/v1', ...over });
const mustRead = (d: unknown): Terms => {
  const r = readTerms(d);
  if (!r.ok) throw new Error(`${r.path}: ${r.message}`);
  return r.terms;
};

test('a document naming nothing gives the defaults; durations read as seconds or with a unit', () => {
  assert.deepEqual(mustRead(doc({})), DEFAULT_TERMS);
  const t = mustRead(doc({ kinds: { exact: { maxDuration: '12h', maxHorizon: '30d', minDuration: 600, groups: ['physics'] } }, holds: { maxTtl: '5m' } }));
  assert.deepEqual(Object.keys(t.kinds), ['exact'], 'a kind not listed is not offered');
  assert.deepEqual([t.kinds.exact!.maxDuration, t.kinds.exact!.maxHorizon, t.kinds.exact!.minDuration, t.holds.maxTtl], [43_200, 2_592_000, 600, 300]);
  assert.equal(t.kinds.exact!.preemptible, false);
});

test('a document that does not read is refused with the path of what is wrong', () => {
  const cases: Array<[unknown, string, RegExp]> = [
    [{}, 'terms.format', /vws\.terms\/v1/],
    [[], 'terms', /object/],
    [doc({ kinds: { exact: { maxNodes: 4, maxNode: 5 } } }), 'terms.kinds.exact.maxNode', /unknown key/],
    [doc({ kinds: { reservation: {} } }), 'terms.kinds.reservation', /unknown key/],
    [doc({ kinds: { exact: { minDuration: '2h', maxDuration: '1h' } } }), 'terms.kinds.exact.maxDuration', /below the minimum/],
    [doc({ kinds: { urgent: { preemptible: true } } }), 'terms.kinds.urgent.preemptible', /only best-effort/],
    [doc({ kinds: { exact: { maxNodes: 0 } } }), 'terms.kinds.exact.maxNodes', /from 1/],
    [doc({ kinds: { exact: { maxNodes: '4' } } }), 'terms.kinds.exact.maxNodes', /number/],
    [doc({ kinds: { exact: { maxNodes: 2.5 } } }), 'terms.kinds.exact.maxNodes', /whole/],
    [doc({ kinds: { exact: { maxDuration: '3 hours' } } }), 'terms.kinds.exact.maxDuration', /"12h"/],
    [doc({ kinds: { exact: { groups: [] } } }), 'terms.kinds.exact.groups', /1 to 1000/],
    [doc({ kinds: { exact: { groups: ['Bad Group'] } } }), 'terms.kinds.exact.groups[0]', /group name/],
    [doc({ unit: { perCoreHour: -1 } }), 'terms.unit.perCoreHour', /from 0/],
    [doc({ unit: { preemptibleFactor: 2 } }), 'terms.unit.preemptibleFactor', /from 0 to 1/],
    [doc({ unit: { name: '' } }), 'terms.unit.name', /text/],
    [doc({ holds: { maxTtl: '2d' } }), 'terms.holds.maxTtl', /to 86400/],
    [doc({ preemption: { victims: 'oldest' } }), 'terms.preemption.victims', /youngest-first/],
    [doc({ scheduling: { backfill: 'aggressive' } }), 'terms.scheduling.backfill', /easy, conservative, none/],
    [doc({ scheduling: { suspendRateMBps: 0 } }), 'terms.scheduling.suspendRateMBps', /from 0.001/],
    [doc({ scheduling: { preemption: 'suspend' } }), 'terms.scheduling.preemption', /unknown key/],
  ];
  for (const [d, path, message] of cases) {
    const r = readTerms(d);
    assert.equal(r.ok, false, JSON.stringify(d));
    if (!r.ok) {
      assert.equal(r.path, path, JSON.stringify(d));
      assert.match(r.message, message, JSON.stringify(d));
    }
  }
});

const kindTermsArb: fc.Arbitrary<Omit<KindTerms, 'preemptible'>> = fc.record({
  groups: fc.option(fc.subarray(['physics', 'bio', 'astro'], { minLength: 1 }), { nil: null }),
  maxNodes: fc.option(fc.integer({ min: 1, max: 8 }), { nil: null }),
  minDuration: fc.option(fc.integer({ min: 1, max: 3600 }), { nil: null }),
  maxDuration: fc.option(fc.integer({ min: 3600, max: 86_400 }), { nil: null }),
  maxHorizon: fc.option(fc.integer({ min: 0, max: 86_400 }), { nil: null }),
  priceFactor: fc.double({ min: 0, max: 10, noNaN: true }),
});

const termsArb: fc.Arbitrary<Terms> = fc.tuple(fc.dictionary(fc.constantFrom(...LEASE_KINDS), kindTermsArb), fc.boolean()).map(([kinds, bePreemptible]) => ({
  ...DEFAULT_TERMS,
  kinds: Object.fromEntries(Object.entries(kinds).map(([k, v]) => [k, { ...v, preemptible: k === 'best-effort' && bePreemptible }])),
}));

test('the published document reads back as the same terms', () => {
  fc.assert(fc.property(termsArb, (t) => assert.deepEqual(mustRead(JSON.parse(JSON.stringify(termsDocument(t)))), t)), { numRuns: 200 });
});

test('a refused request names a rule, and the request offered instead is accepted as offered', () => {
  const asker = fc.record({ group: fc.option(fc.constantFrom('physics', 'bio', 'chem'), { nil: null }), memberOf: fc.subarray(['physics', 'bio', 'chem']), admin: fc.boolean() });
  fc.assert(
    fc.property(scenarioArb({ stream: { maxLeases: 8 } }), termsArb, asker, fc.integer({ min: 0, max: 10_000 }), (s, terms, who, now) => {
      for (const req of s.requests) {
        const r = termsRefusal(req, who, terms, now);
        if (!r) continue;
        assert.match(r.rule, /^kinds\.[a-z-]+(\.[a-zA-Z]+)?$/);
        assert.ok(r.message.length > 0);
        if (r.alternative === null) {
          assert.ok(r.rule.split('.').length === 2 || r.rule.endsWith('.groups') || req.roles, `${r.rule} with no alternative`);
          continue;
        }
        const instead: LeaseRequest = { ...req, ...r.alternative };
        assert.equal(termsRefusal(instead, who, terms, now), null, `${JSON.stringify(req)} → ${JSON.stringify(instead)} under ${JSON.stringify(terms.kinds[req.kind])}`);
      }
    }),
    { numRuns: 300 },
  );
});

test('groups: members of a named group, and administrators, may ask; others are told which kinds they may', () => {
  const terms = mustRead(doc({ kinds: { exact: { groups: ['physics'] }, 'best-effort': {} } }));
  const req = { id: 'a', kind: 'exact', arrival: 0, requestedStart: 100, duration: 60, nodes: 1, perNode: { cpu: 1, memoryMiB: 1, diskMiB: 0 }, preemptible: false } as LeaseRequest;
  assert.equal(termsRefusal(req, { group: null, memberOf: ['physics'], admin: false }, terms, 0), null);
  assert.equal(termsRefusal(req, { group: null, memberOf: [], admin: true }, terms, 0), null);
  const r = termsRefusal(req, { group: 'bio', memberOf: ['bio', 'physics'], admin: false }, terms, 0)!;
  assert.equal(r.rule, 'kinds.exact.groups');
  assert.match(r.message, /members of physics, not to group 'bio': ask for a kind you may: best-effort/);
  assert.equal(termsRefusal({ ...req, kind: 'urgent', requestedStart: null }, { group: null, memberOf: [], admin: true }, terms, 0)!.rule, 'kinds.urgent');
});

test('a policy changed while leases run keeps every schedule sound, and the same changes give the same schedule', () => {
  // The overhead stretches each best-effort lease by the figure in force when it ran: kept, so the checker knows it.
  const arb = fc.tuple(scenarioArb({ stream: { maxLeases: 25 } }), configArb(), fc.integer({ min: 0, max: 40_000 }))
    // Driven by hand, with no early ends: every lease runs its whole duration.
    .map(([s, next, at]) => ({ s: { ...s, requests: s.requests.map((r) => ({ ...r, realDuration: r.duration })) }, next: { ...next, runtimeOverheadPercent: s.config.runtimeOverheadPercent, images: s.config.images, imageCacheMiB: s.config.imageCacheMiB }, at }));
  fc.assert(
    fc.property(arb, ({ s, next, at }) => {
      const run = (): string[] => {
        const scheduler = new Scheduler(s.nodes, s.config);
        const byArrival = [...s.requests].sort((a, b) => a.arrival - b.arrival);
        let changed = false;
        let i = 0;
        for (let guard = 0; guard < 200_000; guard++) {
          const now = Math.min(byArrival[i]?.arrival ?? Infinity, scheduler.nextEventTime(), changed ? Infinity : at);
          if (now === Infinity) return [...scheduleLines(scheduler.allLeases(), s.nodes)];
          if (!changed && now === at) {
            if (scheduler.time < at) scheduler.advance(at);
            assert.deepEqual(scheduler.setPolicy(next, at), { ok: true });
            changed = true;
          }
          while (i < byArrival.length && byArrival[i].arrival === now) scheduler.submit(byArrival[i++], now);
          scheduler.advance(now);
        }
        throw new Error('did not drain');
      };
      const lines = run();
      assert.deepEqual(checkSchedule(lines, { runtimeOverheadPercent: s.config.runtimeOverheadPercent, drained: true }), [], describeScenario(s));
      assert.deepEqual(run(), lines);
    }),
    { numRuns: 150 },
  );
});

test('the image mode and cache size change only before the first lease', () => {
  const nodes = [{ id: 'n0', cpu: 4, memoryMiB: 4096, diskMiB: 0 }];
  const s = new Scheduler(nodes, configOfTerms(DEFAULT_TERMS));
  const transfer = { ...configOfTerms(DEFAULT_TERMS), images: 'transfer' as const };
  assert.deepEqual(s.setPolicy(transfer, 0), { ok: true });
  s.submit({ id: 'a', kind: 'best-effort', arrival: 0, requestedStart: null, duration: 60, nodes: 1, perNode: { cpu: 1, memoryMiB: 1, diskMiB: 0 }, preemptible: true }, 0);
  s.advance(0);
  const r = s.policyRefusal({ ...transfer, imageCacheMiB: 1 });
  assert.equal(r?.code, 'policy');
  assert.match(r!.message, /kept from the first lease on/);
});
