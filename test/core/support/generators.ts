// fast-check arbitraries for the scheduling core's property tests: small pools, lease request
// streams and scheduler configurations. Request shapes are drawn independently of the pool and
// resolved against it afterwards (resolveStream), so that every part shrinks on its own.

import fc from 'fast-check';
import type { SchedulerConfig } from '../../../src/core/config.ts';
import type { ImageRef, LeaseKind, LeaseRequest, NodeSpec } from '../../../src/core/types.ts';

export const NODE_CPUS = [1, 2, 4] as const;
export const NODE_MEMORIES = [1024, 2048, 4096] as const;

// ---- pools ----

export interface PoolOptions {
  minNodes?: number;
  maxNodes?: number;
}

function nodeSpec(i: number, cpu: number, memoryMiB: number): NodeSpec {
  return { id: `n${i + 1}`, cpu, memoryMiB, diskMiB: 40_000 };
}

/** n identical nodes named n1..nN. */
export function uniformPoolArb(opts: PoolOptions = {}): fc.Arbitrary<NodeSpec[]> {
  return fc
    .record({
      n: fc.integer({ min: opts.minNodes ?? 1, max: opts.maxNodes ?? 10 }),
      cpu: fc.constantFrom(...NODE_CPUS),
      memoryMiB: fc.constantFrom(...NODE_MEMORIES),
    })
    .map(({ n, cpu, memoryMiB }) => Array.from({ length: n }, (_, i) => nodeSpec(i, cpu, memoryMiB)));
}

/** Nodes of different shapes. */
export function mixedPoolArb(opts: PoolOptions = {}): fc.Arbitrary<NodeSpec[]> {
  return fc
    .array(fc.tuple(fc.constantFrom(...NODE_CPUS), fc.constantFrom(...NODE_MEMORIES)), {
      minLength: opts.minNodes ?? 1,
      maxLength: opts.maxNodes ?? 10,
    })
    .map((shapes) => shapes.map(([cpu, mem], i) => nodeSpec(i, cpu, mem)));
}

/** 1-10 nodes, uniform or mixed. */
export function poolArb(opts: PoolOptions = {}): fc.Arbitrary<NodeSpec[]> {
  return fc.oneof(uniformPoolArb(opts), mixedPoolArb(opts));
}

// ---- request streams ----

/** A request's shape before it is fitted to a pool. */
export interface RawLease {
  kind: LeaseKind;
  /** Fraction of the stream's arrival scale. */
  arrivalFrac: number;
  /** exact: requestedStart - arrival (0 means "start now"). */
  startOffset: number;
  duration: number;
  /** null: realDuration equals duration; else a fraction of it. */
  realFrac: number | null;
  /** Fraction of the pool's node count. */
  nodesFrac: number;
  /** Ask for more nodes than the pool can host. */
  exceed: number;
  /** Share of the pool's smallest node (or of its largest one, for "large" leases). */
  cpuShare: number;
  memShare: number;
  /** Size relative to the largest node instead of the smallest (may fit only some nodes). */
  large: boolean;
  preemptible: boolean;
  /** Index into the stream's image catalog, or null for no image. */
  image: number | null;
  /** deadline: slack after the earliest possible end, as a fraction of 4 x duration. */
  slackFrac: number;
  /** periodic: extra period beyond one occurrence, occurrences, and whether the fitting ones are enough. */
  periodExtra: number;
  count: number;
  acceptPartial: boolean;
}

export interface RawStream {
  arrivalScale: number;
  imageSizes: number[];
  leases: RawLease[];
}

export interface StreamOptions {
  minLeases?: number;
  maxLeases?: number;
  kinds?: ReadonlyArray<RawLease['kind']>;
  /** Probability (in %) that a lease asks for more nodes than the pool has. */
  exceedPercent?: number;
  /** Probability (in %) that a lease's per-node size is relative to the largest node. */
  largePercent?: number;
}

const SHARES = [0.25, 0.5, 1] as const;

/** A boolean that is true p % of the time (and shrinks towards false). */
function percent(p: number): fc.Arbitrary<boolean> {
  if (p <= 0) return fc.constant(false);
  if (p >= 100) return fc.constant(true);
  return fc.oneof({ weight: 100 - p, arbitrary: fc.constant(false) }, { weight: p, arbitrary: fc.constant(true) });
}

/** A fraction in [0, 1] in steps of 1/1000: integers shrink far faster than doubles. */
const fraction = fc.integer({ min: 0, max: 1000 }).map((x) => x / 1000);

export function rawLeaseArb(opts: StreamOptions = {}): fc.Arbitrary<RawLease> {
  const kinds = opts.kinds ?? ['best-effort', 'best-effort', 'best-effort', 'immediate', 'exact', 'exact', 'urgent', 'deadline', 'periodic'];
  return fc.record({
    kind: fc.constantFrom(...kinds),
    arrivalFrac: fraction,
    startOffset: fc.oneof({ arbitrary: fc.constant(0), weight: 1 }, { arbitrary: fc.integer({ min: 1, max: 6000 }), weight: 5 }),
    duration: fc.oneof(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 60 })),
    realFrac: fc.option(fraction, { nil: null, freq: 2 }),
    nodesFrac: fraction,
    exceed: fc.tuple(percent(opts.exceedPercent ?? 4), fc.integer({ min: 1, max: 3 })).map(([on, k]) => (on ? k : 0)),
    cpuShare: fc.constantFrom(...SHARES),
    memShare: fc.constantFrom(...SHARES),
    large: percent(opts.largePercent ?? 0),
    preemptible: fc.boolean(),
    image: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }),
    slackFrac: fraction,
    periodExtra: fc.integer({ min: 60, max: 4000 }),
    count: fc.integer({ min: 1, max: 4 }),
    acceptPartial: fc.boolean(),
  });
}

export function rawStreamArb(opts: StreamOptions = {}): fc.Arbitrary<RawStream> {
  return fc.record({
    arrivalScale: fc.constantFrom(0, 500, 5000, 20_000),
    imageSizes: fc.array(fc.integer({ min: 100, max: 2000 }), { minLength: 4, maxLength: 4 }),
    leases: fc.array(rawLeaseArb(opts), { minLength: opts.minLeases ?? 1, maxLength: opts.maxLeases ?? 40, size: 'max' }),
  });
}

/** How many nodes of the pool can each hold cpu/mem. */
export function nodesThatFit(pool: readonly NodeSpec[], cpu: number, memoryMiB: number): number {
  return pool.filter((n) => n.cpu >= cpu && n.memoryMiB >= memoryMiB).length;
}

/** Fits raw lease shapes to a pool: ids L1..Ln, integer times, per-node sizes that fit. */
export function resolveStream(pool: readonly NodeSpec[], raw: RawStream): LeaseRequest[] {
  const minCpu = Math.min(...pool.map((n) => n.cpu));
  const minMem = Math.min(...pool.map((n) => n.memoryMiB));
  const maxCpu = Math.max(...pool.map((n) => n.cpu));
  const maxMem = Math.max(...pool.map((n) => n.memoryMiB));
  const images: ImageRef[] = raw.imageSizes.map((sizeMiB, i) => ({ id: `img-${String.fromCharCode(97 + i)}`, sizeMiB }));
  return raw.leases.map((r, i) => {
    const arrival = Math.floor(r.arrivalFrac * raw.arrivalScale);
    const cpu = (r.large ? maxCpu : minCpu) * r.cpuShare;
    const memoryMiB = (r.large ? maxMem : minMem) * r.memShare;
    const fit = nodesThatFit(pool, cpu, memoryMiB);
    const nodes = r.exceed > 0 ? fit + r.exceed : Math.max(1, Math.min(fit, 1 + Math.floor(r.nodesFrac * fit)));
    const realDuration = r.realFrac === null ? r.duration : 1 + Math.floor(r.realFrac * (r.duration - 1));
    const fixedStart = r.kind === 'exact' || r.kind === 'periodic' || (r.kind === 'deadline' && r.startOffset > 0);
    const req: LeaseRequest = {
      id: `L${i + 1}`,
      kind: r.kind,
      arrival,
      requestedStart: fixedStart ? arrival + r.startOffset : null,
      duration: r.duration,
      realDuration,
      nodes,
      perNode: { cpu, memoryMiB, diskMiB: 0 },
      preemptible: r.preemptible,
    };
    if (r.image !== null) req.image = images[r.image];
    if (r.kind === 'deadline') req.deadline = (req.requestedStart ?? arrival) + r.duration + 1 + Math.floor(r.slackFrac * 4 * r.duration);
    if (r.kind === 'periodic') req.recurrence = { period: r.duration + r.periodExtra, count: r.count, acceptPartial: r.acceptPartial };
    return req;
  });
}

// ---- configurations ----

const rates = fc.constantFrom(Infinity, 10, 50, 200);
const smallSeconds = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 30 }));

const configFields = {
  backfill: fc.constantFrom('easy', 'conservative', 'none'),
  preemption: fc.constantFrom('suspend', 'requeue'),
  suspendRateMBps: rates,
  resumeRateMBps: rates,
  migration: fc.boolean(),
  migrateBandwidthMBps: fc.constantFrom(Infinity, 10, 100),
  images: fc.constantFrom('predeployed', 'transfer'),
  imageBandwidthMBps: fc.constantFrom(Infinity, 10, 100, 1000),
  imageCacheMiB: fc.constantFrom(0, 2000, 4096),
  runtimeOverheadPercent: fc.constantFrom(0, 5, 10),
  bootSeconds: smallSeconds,
  shutdownSeconds: smallSeconds,
  suspendThresholdFactor: fc.oneof(fc.constantFrom(0, 1, 2), fc.double({ min: 0, max: 2, noNaN: true })),
  preemptionPolicy: fc.constantFrom('youngest-first', 'least-work-lost'),
  urgentPreemptionPolicy: fc.constantFrom('youngest-first', 'least-work-lost'),
  suspendedQueueOrder: fc.constantFrom('arrival', 'suspension'),
  preemptionNoticeSeconds: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, fc.integer({ min: 1, max: 3600 })),
  suspendedState: fc.constantFrom('node', 'node', 'depot'),
  // A pool that grows only as something outside adds nodes: a simulation of a fixed pool has none to come.
  nodesToCome: fc.constant(null),
  renegotiationSeconds: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3600 })),
  renegotiationDefault: fc.constantFrom('cancel', 'first-offer'),
  // The scenarios' properties hold every reservation to its place; test/core/renegotiation.test.ts lets urgent leases take them.
  urgentBreaksReservations: fc.constant(false),
} satisfies { [K in keyof SchedulerConfig]: fc.Arbitrary<SchedulerConfig[K]> };

/** Every field of SchedulerConfig varied (the `satisfies` above fails to compile if one is missing). */
export function configArb(overrides: Partial<{ [K in keyof SchedulerConfig]: fc.Arbitrary<SchedulerConfig[K]> }> = {}): fc.Arbitrary<SchedulerConfig> {
  return fc.record({ ...configFields, ...overrides }) as fc.Arbitrary<SchedulerConfig>;
}

// ---- whole scenarios ----

export interface Scenario {
  nodes: NodeSpec[];
  requests: LeaseRequest[];
  config: SchedulerConfig;
}

export function scenarioArb(opts: { pool?: PoolOptions; stream?: StreamOptions; config?: fc.Arbitrary<SchedulerConfig> } = {}): fc.Arbitrary<Scenario> {
  return fc
    .tuple(poolArb(opts.pool), rawStreamArb(opts.stream), opts.config ?? configArb())
    .map(([nodes, raw, config]) => ({ nodes, requests: resolveStream(nodes, raw), config }));
}

/** A readable, copy-pasteable description of a scenario for failure reports (Infinity kept). */
export function describeScenario(s: Scenario): string {
  return JSON.stringify(s, (_k, v) => (v === Infinity ? 'Infinity' : v));
}

export type { LeaseKind };

// ---- forced preemption: a pool filled by long best-effort leases, then a reservation in their middle ----

export interface PreemptionScenario extends Scenario {
  /** The best-effort leases that fill the pool from time 0, one node group each. */
  fill: LeaseRequest[];
  /** The reservation that arrives later for a start in the middle of them. */
  ar: LeaseRequest;
  /** Nodes held by preemptible fill leases: the reservation fits iff it asks for at most this many. */
  preemptibleNodes: number;
}

/**
 * A uniform pool of 1-8 nodes filled at time 0 by long whole-node best-effort leases (preemptible
 * or not), a reservation for whole nodes arriving at 1500-3000 for a start 600-3000 s later (no
 * image, so only capacity decides), and a few best-effort leases arriving after it. The margins
 * leave room for any configured suspension: the longest suspend (4096 MiB at 10 MB/s = 410 s)
 * plus boot fits between the reservation's arrival and its start, and the fill leases have run
 * longer than any suspend threshold (3 x 410 s) by then.
 */
export function preemptionScenarioArb(config: fc.Arbitrary<SchedulerConfig> = configArb()): fc.Arbitrary<PreemptionScenario> {
  return fc
    .record({
      pool: uniformPoolArb({ maxNodes: 8 }),
      groups: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 8, maxLength: 8 }),
      fillDurations: fc.array(fc.integer({ min: 10_000, max: 15_000 }), { minLength: 8, maxLength: 8 }),
      fillPreemptible: fc.array(percent(75), { minLength: 8, maxLength: 8 }),
      arArrival: fc.integer({ min: 1500, max: 3000 }),
      arGap: fc.integer({ min: 600, max: 3000 }),
      arDuration: fc.integer({ min: 1, max: 3000 }),
      arRealFrac: fc.option(fraction, { nil: null }),
      arNodesFrac: fraction,
      tail: fc.array(
        fc.record({
          delay: fc.integer({ min: 1, max: 2000 }),
          duration: fc.integer({ min: 1, max: 3000 }),
          share: fc.constantFrom(...SHARES),
          preemptible: fc.boolean(),
          nodesFrac: fraction,
        }),
        { maxLength: 5 },
      ),
      config,
    })
    .map((g) => {
      const nodes = g.pool;
      const { cpu, memoryMiB } = nodes[0];
      const whole = { cpu, memoryMiB, diskMiB: 0 };
      const fill: LeaseRequest[] = [];
      let used = 0;
      let preemptibleNodes = 0;
      for (let i = 0; used < nodes.length; i++) {
        const size = Math.min(g.groups[i], nodes.length - used);
        used += size;
        const preemptible = g.fillPreemptible[i];
        if (preemptible) preemptibleNodes += size;
        fill.push({
          id: `F${i + 1}`, kind: 'best-effort', arrival: 0, requestedStart: null, duration: g.fillDurations[i],
          realDuration: g.fillDurations[i], nodes: size, perNode: whole, preemptible,
        });
      }
      const start = g.arArrival + g.arGap;
      const ar: LeaseRequest = {
        id: 'AR', kind: 'exact', arrival: g.arArrival, requestedStart: start, duration: g.arDuration,
        realDuration: g.arRealFrac === null ? g.arDuration : 1 + Math.floor(g.arRealFrac * (g.arDuration - 1)),
        nodes: 1 + Math.floor(g.arNodesFrac * (nodes.length - 1) + 0.5), perNode: whole, preemptible: false,
      };
      const tail: LeaseRequest[] = g.tail.map((t, i) => ({
        id: `T${i + 1}`, kind: 'best-effort', arrival: g.arArrival + t.delay, requestedStart: null, duration: t.duration,
        realDuration: t.duration, nodes: 1 + Math.floor(t.nodesFrac * (nodes.length - 1)),
        perNode: { cpu: cpu * t.share, memoryMiB: memoryMiB * t.share, diskMiB: 0 }, preemptible: t.preemptible,
      }));
      return { nodes, config: g.config, requests: [...fill, ar, ...tail], fill, ar, preemptibleNodes };
    });
}
