// The simulator with an EC2 back-end to burst to (issue 16): a pool that overflows sends leases to
// EC2, no lease ever runs across back-ends, every lease still runs its whole work; a site whose
// leases cannot burst gets exactly the plain simulation; the same input gives the same schedule;
// the export passes the shared checker; and the command line refuses half-given burst options.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Backends } from '../../src/core/backends.ts';
import { configWith, type SchedulerConfig } from '../../src/core/config.ts';
import type { InstanceType } from '../../src/core/instance-types.ts';
import type { LeaseRequest, NodeSpec } from '../../src/core/types.ts';
import { burstMetrics } from '../../src/sim/burst-metrics.ts';
import { EC2_BACKEND, ec2Backend, type Ec2Model, fitsInstanceTypes } from '../../src/sim/ec2-model.ts';
import { computeMetrics } from '../../src/sim/metrics.ts';
import { scheduleLines } from '../../src/sim/schedule-export.ts';
import { POOL_BACKEND, simulate } from '../../src/sim/simulator.ts';
import '../core/support/setup.ts';
import { withChanges } from '../core/support/changes-arb.ts';
import { configArb, describeScenario, scenarioArb } from '../core/support/generators.ts';
import { MOVED_END, movedEndScenario } from '../core/support/moved-end.ts';
import { checkSchedule } from '../core/support/schedule-checker.ts';
import { validateSchedule } from '../support/validate-schedule.ts';
import { bin, root } from '../support/vws-bin.ts';

const TYPES: InstanceType[] = [
  { name: 'small', cpu: 1, memoryMiB: 1024, pricePerHour: 0.36 },
  { name: 'large', cpu: 4, memoryMiB: 8192, pricePerHour: 3.6 },
];
const EC2: Ec2Model = { instanceTypes: TYPES, slots: 16, bootSeconds: 60 };
const POOL: NodeSpec[] = Array.from({ length: 4 }, (_, i) => ({ id: `n${i + 1}`, cpu: 1, memoryMiB: 1024, diskMiB: 40_000 }));
const CONFIG = configWith({ preemption: 'suspend', runtimeOverheadPercent: 10, bootSeconds: 5, shutdownSeconds: 5 });

/** 24 best-effort leases of 2 nodes every 100 s, each 1000 s asked and 800 s of real work, and two reservations: 4 nodes cannot keep up. */
function overflowing(): LeaseRequest[] {
  const perNode = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
  const be = Array.from({ length: 24 }, (_, i): LeaseRequest => ({
    id: `be${i + 1}`, kind: 'best-effort', arrival: i * 100, requestedStart: null, duration: 1000, realDuration: 800, nodes: 2, perNode, preemptible: true,
  }));
  const ars: LeaseRequest[] = [
    { id: 'ar1', kind: 'exact', arrival: 150, requestedStart: 1200, duration: 600, nodes: 3, perNode, preemptible: false },
    { id: 'ar2', kind: 'exact', arrival: 300, requestedStart: 1500, duration: 600, nodes: 4, perNode, preemptible: false },
  ];
  return [...be, ...ars];
}

function runBurst(requests: readonly LeaseRequest[], opts: { afterSeconds?: number; mayRun?: boolean; nodes?: NodeSpec[]; config?: SchedulerConfig; model?: Ec2Model } = {}): Backends {
  const config = opts.config ?? CONFIG;
  const model = opts.model ?? EC2;
  return simulate({
    requests, nodes: opts.nodes ?? POOL, config,
    burst: { backends: [ec2Backend(config, model)], policy: { afterSeconds: opts.afterSeconds ?? 0 }, mayRun: (req) => (opts.mayRun ?? true) && fitsInstanceTypes(model, req) },
  });
}

/** Where each lease lives, by the scheduler that holds it. */
function leaseBackends(backends: Backends): Map<string, string> {
  const where = new Map<string, string>();
  for (const name of backends.names) for (const l of backends.scheduler(name)!.allLeases()) where.set(l.req.id, name);
  return where;
}

/** A segment on a node of another back-end than its lease's, or with nodes of two back-ends. */
function crossings(backends: Backends): string[] {
  const where = leaseBackends(backends);
  const out: string[] = [];
  for (const l of backends.allLeases()) {
    for (const seg of [...l.lost.flatMap((a) => a.segments), ...l.history]) {
      const foreign = seg.nodes.filter((n) => backends.nodeBackend(n) !== where.get(l.req.id));
      if (foreign.length > 0) out.push(`lease ${l.req.id} on ${where.get(l.req.id)}: ${seg.kind} [${seg.start}, ${seg.end}) on ${foreign.map((n) => backends.nodes[n].id).join(', ')}`);
    }
  }
  return out;
}

const exportOf = (backends: Backends): string[] => [...scheduleLines(backends.allLeases(), backends.nodes)];

test('a pool that overflows bursts to EC2; no lease runs across back-ends and every lease runs its whole work', () => {
  const backends = runBurst(overflowing());
  const where = leaseBackends(backends);
  const onEc2 = [...where.values()].filter((b) => b === EC2_BACKEND).length;
  assert.ok(onEc2 > 0, 'some leases burst');
  assert.ok(onEc2 < where.size, 'some stay on the pool');
  assert.equal(where.get('ar1'), POOL_BACKEND, 'a reservation the pool accepts as asked stays');
  assert.deepEqual(crossings(backends), []);
  for (const l of backends.allLeases()) assert.equal(l.state, 'completed', `lease ${l.req.id}`);
  assert.deepEqual(checkSchedule(exportOf(backends), { runtimeOverheadPercent: CONFIG.runtimeOverheadPercent, drained: true }), []);
  for (const l of backends.scheduler(EC2_BACKEND)!.allLeases()) {
    const boot = l.history.find((s) => s.kind === 'boot');
    assert.equal(boot && boot.end - boot.start, EC2.bootSeconds, `lease ${l.req.id} boots in EC2's time`);
    assert.ok(l.history.every((s) => s.kind !== 'suspend'), `lease ${l.req.id}: EC2 cannot suspend`);
  }
});

test('the burst block counts leases per back-end and prices the EC2 ones by the smallest type that fits', () => {
  const backends = runBurst(overflowing());
  const where = leaseBackends(backends);
  const leases = backends.allLeases();
  const m = burstMetrics(leases, { policy: { afterSeconds: 0 }, names: backends.names, backendOf: (l) => where.get(l.req.id)!, priced: { [EC2_BACKEND]: { ...EC2, unitsPerDollar: 10 } } });
  const ec2 = m.backends[EC2_BACKEND];
  assert.equal(m.backends[POOL_BACKEND].leases + ec2.leases, leases.length);
  // Each VM: boot (60 s), its work (a best-effort lease's 800 s stretched by 10%, a reservation's
  // 600 s) and shutdown (5 s), on the small type at 0.36/h = 0.0001 a second.
  const vmSeconds = backends.scheduler(EC2_BACKEND)!.allLeases().reduce((sum, l) => sum + l.req.nodes * (60 + (l.req.kind === 'best-effort' ? 880 : 600) + 5), 0);
  assert.ok(Math.abs(ec2.instanceHours! - vmSeconds / 3600) < 1e-9, `instance-hours ${ec2.instanceHours}`);
  assert.ok(Math.abs(ec2.dollars! - vmSeconds * 0.0001) < 1e-9, `dollars ${ec2.dollars}`);
  assert.ok(Math.abs(ec2.siteUnits! - ec2.dollars! * 10) < 1e-9);
  assert.equal(m.backends[POOL_BACKEND].dollars, undefined, 'the pool is not priced');
});

test('the pool utilization counts the pool only', () => {
  const backends = runBurst(overflowing());
  const where = leaseBackends(backends);
  const leases = backends.allLeases();
  const pool = computeMetrics(leases, POOL, 0, { onPool: (l) => where.get(l.req.id) === POOL_BACKEND });
  const all = computeMetrics(leases, POOL, 0);
  assert.ok(pool.utilization <= 1, `pool utilization ${pool.utilization}`);
  assert.ok(all.utilization > pool.utilization, 'the EC2 runs would count otherwise');
});

test('leases that may not burst give exactly the plain simulation: schedule and metrics', () => {
  const requests = overflowing();
  const plain = simulate({ requests, nodes: POOL, config: CONFIG });
  const backends = runBurst(requests, { mayRun: false });
  assert.deepEqual(exportOf(backends).slice(1), [...scheduleLines(plain.allLeases(), POOL)].slice(1));
  assert.deepEqual(computeMetrics(backends.allLeases(), POOL, 0, { onPool: () => true }), computeMetrics(plain.allLeases(), POOL, 0));
  // No instance type fits a 2-CPU VM: the same.
  const tiny = runBurst(requests, { model: { ...EC2, instanceTypes: [{ name: 'x', cpu: 1, memoryMiB: 512, pricePerHour: 1 }] } });
  assert.deepEqual(exportOf(tiny).slice(1), [...scheduleLines(plain.allLeases(), POOL)].slice(1));
});

test('with a huge wait allowed, leases that find nobody queued ahead stay on the pool, as in the plain simulation', () => {
  // Each arrives after the one before has started: some wait, none finds a queue.
  const perNode = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
  // Each runs 1330 s (5 s boot, 1320 s of work, 5 s shutdown) and they come every 1200 s: each
  // waits 130 s more than the one before, which has started by then (until the tenth).
  const requests = Array.from({ length: 8 }, (_, i): LeaseRequest => ({
    id: `w${i + 1}`, kind: 'best-effort', arrival: i * 1200, requestedStart: null, duration: 1500, realDuration: 1200, nodes: 3, perNode, preemptible: false,
  }));
  const plain = simulate({ requests, nodes: POOL, config: CONFIG });
  assert.ok(plain.allLeases().some((l) => l.firstStart! > l.req.arrival), 'some lease waits on the pool');
  const backends = runBurst(requests, { afterSeconds: 1e9 });
  assert.equal(backends.scheduler(EC2_BACKEND)!.allLeases().length, 0);
  assert.deepEqual(exportOf(backends).slice(1), [...scheduleLines(plain.allLeases(), POOL)].slice(1));
  const early = runBurst(requests, { afterSeconds: 0 });
  assert.ok(early.scheduler(EC2_BACKEND)!.allLeases().length > 0, 'without the allowance, the waiting ones burst');
});

test('requests that arrive at one instant are each planned with the ones before them in place', () => {
  // The pool has room for one of the two now: the second must see the first there, not an empty pool.
  const perNode = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
  const two = ['a', 'b'].map((id): LeaseRequest => ({ id, kind: 'best-effort', arrival: 0, requestedStart: null, duration: 1000, nodes: 3, perNode, preemptible: false }));
  const where = leaseBackends(runBurst(two));
  assert.deepEqual([where.get('a'), where.get('b')], [POOL_BACKEND, EC2_BACKEND]);
});

test('the same input gives the same export', () => {
  assert.deepEqual(exportOf(runBurst(overflowing())), exportOf(runBurst(overflowing())));
});

test('the shared checker accepts the export with EC2 nodes in its header', () => {
  const backends = runBurst(overflowing());
  const lines = exportOf(backends);
  assert.equal(JSON.parse(lines[0]).nodes.length, POOL.length + EC2.slots);
  const { status, output } = validateSchedule(`${lines.join('\n')}\n`, ['--nodes', String(POOL.length + EC2.slots), '--runtime-overhead', String(CONFIG.runtimeOverheadPercent)]);
  assert.equal(status, 0, output);
});

/** Generated workloads, half of them with owners' changes (LWF <change>), made on whichever back-end holds the lease. */
const scenarios = scenarioArb({ pool: { maxNodes: 6 }, stream: { maxLeases: 25 }, config: configArb() }).chain((s) => fc.oneof(fc.constant(s), withChanges(s)));

test('generated workloads: no segment crosses back-ends, no node is over capacity, every lease ends completed or rejected', () => {
  const model = fc.record({
    types: fc.subarray(TYPES, { minLength: 1 }),
    slots: fc.integer({ min: 1, max: 12 }),
    bootSeconds: fc.integer({ min: 0, max: 120 }),
  });
  fc.assert(
    fc.property(scenarios, model, fc.integer({ min: 0, max: 3000 }), (s, m, afterSeconds) => {
      const ec2: Ec2Model = { instanceTypes: m.types, slots: m.slots, bootSeconds: m.bootSeconds };
      const backends = runBurst(s.requests, { afterSeconds, nodes: s.nodes, config: s.config, model: ec2 });
      const violations = [
        ...crossings(backends),
        ...checkSchedule(exportOf(backends), { runtimeOverheadPercent: s.config.runtimeOverheadPercent, drained: true }),
      ];
      assert.deepEqual(violations, [], `scenario ${describeScenario(s)}\nEC2 ${JSON.stringify(ec2)}, afterSeconds ${afterSeconds}`);
    }),
    { numRuns: 150 },
  );
});

test('generated workloads that may not burst: the export is the plain simulation\'s, line for line', () => {
  fc.assert(
    fc.property(scenarios, (s) => {
      const plain = [...scheduleLines(simulate({ requests: s.requests, nodes: s.nodes, config: s.config }).allLeases(), s.nodes)].slice(1);
      const backends = runBurst(s.requests, { mayRun: false, nodes: s.nodes, config: s.config });
      assert.deepEqual(exportOf(backends).slice(1), plain, `scenario ${describeScenario(s)}`);
    }),
    { numRuns: 100 },
  );
});

test('a lease that ends early frees its node before the queue is decided at that instant, as in the plain simulation', () => {
  // Found by the property above (seed 84836407). L2 holds n1 until 4 but its work is done at 2;
  // L3 (a whole node, its image sent in 1 s) waits for a node. Decided at 2 with n1 free, it
  // takes n1, the lower of two nodes free by 3; decided at 2 before L2's end, only n2 (free at 3).
  const nodes: NodeSpec[] = ['n1', 'n2'].map((id) => ({ id, cpu: 1, memoryMiB: 1024, diskMiB: 40_000 }));
  const config = configWith({ backfill: 'none', images: 'transfer', imageBandwidthMBps: 100, imageCacheMiB: 0, bootSeconds: 1, shutdownSeconds: 0 });
  const lease = (id: string, arrival: number, duration: number, cpu: number, memoryMiB: number): LeaseRequest => ({
    id, kind: 'best-effort', arrival, requestedStart: null, duration, nodes: 1, perNode: { cpu, memoryMiB, diskMiB: 0 }, preemptible: true,
  });
  const requests = [
    { ...lease('L2', 0, 3, 0.25, 1024), realDuration: 1 },
    lease('L1', 1, 1, 0.25, 256),
    { ...lease('L3', 1, 1, 1, 256), image: { id: 'img-a', sizeMiB: 100 } },
  ];
  const plain = simulate({ requests, nodes, config });
  const l3 = plain.lease('L3')!.history.map((s) => [s.kind, s.start, s.end, s.nodes.map((n) => nodes[n].id)]);
  assert.deepEqual(l3, [['boot', 3, 4, ['n1']], ['run', 4, 5, ['n1']]]);
  const backends = runBurst(requests, { mayRun: false, nodes, config });
  assert.deepEqual(exportOf(backends).slice(1), [...scheduleLines(plain.allLeases(), nodes)].slice(1));
});

test('a back-end steps at the instant it named, however often the site asks, as in the plain simulation', () => {
  // The pool alone names 167 once, then 168: a site that asked twice skipped 167 (see moved-end.ts).
  const { nodes, config, requests } = movedEndScenario();
  const plain = simulate({ requests, nodes, config });
  assert.equal(plain.lease(MOVED_END.waiting)!.firstStart, MOVED_END.startWhenSteppedThere);
  const backends = runBurst(requests, { mayRun: false, nodes, config });
  assert.deepEqual(exportOf(backends).slice(1), [...scheduleLines(plain.allLeases(), nodes)].slice(1));
});

// ---- the command line ----

function vws(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: root });
}

function siteConfig(extra: object = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'vws-burst-'));
  const file = join(dir, 'ec2.json');
  writeFileSync(file, JSON.stringify({ region: 'us-east-1', instanceTypes: TYPES, images: {}, accounts: {}, ...extra }));
  return file;
}

test('vws sim --burst-to ec2 prints the burst block, and its export and metrics pass the shared checker', () => {
  const trace = join(root, 'test/fixtures/small.swf');
  const config = siteConfig({ slots: 8, unitsPerDollar: 100 });
  const dir = mkdtempSync(join(tmpdir(), 'vws-burst-'));
  const schedule = join(dir, 's.jsonl');
  const table = vws('sim', '--trace', trace, '--nodes', '4', '--burst-to', 'ec2', '--ec2-config', config);
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /^leases on ec2\s+\d+ \(mean wait \d+ s, mean bounded slowdown [\d.]+, [\d.]+ instance-hours, \$[\d.]+ \([\d.]+ site units\)\)$/m);
  const run = vws('sim', '--trace', trace, '--nodes', '4', '--burst-to', 'ec2', '--ec2-config', config, '--burst-boot', '30', '--json', '--schedule', schedule);
  assert.equal(run.status, 0, run.stderr);
  const m = JSON.parse(run.stdout);
  assert.deepEqual(Object.keys(m.burst.backends), ['pool', 'ec2']);
  assert.ok(m.burst.backends.ec2.leases > 0, 'small.swf overflows 4 nodes');
  assert.equal(typeof m.burst.backends.ec2.siteUnits, 'number');
  writeFileSync(join(dir, 'm.json'), run.stdout);
  const header = JSON.parse(readFileSync(schedule, 'utf8').split('\n')[0]);
  assert.equal(header.nodes.length, 4 + 8, 'the pool and the configuration\'s 8 slots');
  const check = spawnSync('python3', [join(root, '../shared/tools/validate-schedule'), schedule, '--nodes', '12', '--metrics', join(dir, 'm.json')], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
});

test('vws sim refuses burst options without --burst-to, and --burst-to without a configuration, saying what to add', () => {
  const trace = join(root, 'test/fixtures/small.swf');
  const refused = (args: string[], message: RegExp): void => {
    const r = vws('sim', '--trace', trace, ...args);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '');
  };
  refused(['--burst-after', '60'], /--burst-after says how to burst: add --burst-to ec2 \(and --ec2-config FILE\), or leave it out/);
  refused(['--ec2-config', 'x.json', '--burst-slots', '4'], /--ec2-config, --burst-slots say how to burst: add --burst-to ec2/);
  refused(['--burst-to', 'ec2'], /--burst-to ec2 needs --ec2-config FILE/);
  refused(['--burst-to', 'gcp', '--ec2-config', 'x.json'], /--burst-to must be one of ec2; got 'gcp'/);
  refused(['--burst-to', 'ec2', '--ec2-config', join(root, 'no-such.json')], /--ec2-config .*no-such\.json: cannot read it \(ENOENT\)/);
  refused(['--burst-to', 'ec2', '--ec2-config', siteConfig({ slots: 0 })], /slots: must be a whole number of instances at once per zone, 1 to 100000, got 0/);
  refused(['--burst-to', 'ec2', '--ec2-config', siteConfig(), '--burst-after', '-1'], /--burst-after must be whole seconds >= 0, got '-1'/);
  refused(['--burst-to', 'ec2', '--ec2-config', siteConfig(), '--burst-slots', '2.5'], /--burst-slots must be a whole number of instances, 1 to 100000, got '2\.5'/);
});

test('vws sim --burst-to ec2 --at T --quote R answers each back-end that can run R', () => {
  const trace = join(root, 'test/fixtures/small.swf');
  const ask = (request: object, types: InstanceType[] = TYPES) => {
    const r = vws('sim', '--trace', trace, '--nodes', '4', '--burst-to', 'ec2', '--ec2-config', siteConfig({ instanceTypes: types }), '--at', '100', '--quote', JSON.stringify(request), '--json');
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const both = ask({ kind: 'exact', start: 200, duration: 60, nodes: 6 });
  assert.deepEqual(Object.keys(both), ['pool', 'ec2']);
  assert.equal(both.pool.ok, false, 'the pool has 4 nodes');
  assert.equal(both.ec2.ok, true);
  assert.equal(both.ec2.start, 200);
  const poolOnly = ask({ kind: 'exact', start: 200, duration: 60, nodes: 1 }, [{ name: 'half', cpu: 1, memoryMiB: 512, pricePerHour: 1 }]);
  assert.deepEqual(Object.keys(poolOnly), ['pool'], 'no instance type fits a 1024 MiB VM');
});
