import { type ChangeFigures, type ChangeOutcome, changeFigures } from './workload-changes.ts';
import type { Terms } from '../core/terms.ts';
import { simCharges } from './charges.ts';
import { setFlagsFromString } from 'node:v8';
import type { Backends } from '../core/backends.ts';
import type { BurstPolicy } from '../core/bursting.ts';
import type { SchedulerConfig } from '../core/config.ts';
import type { LeaseRecord } from '../core/lease-record.ts';
import type { LeaseRequest, NodeSpec } from '../core/types.ts';
import { burstMetrics } from './burst-metrics.ts';
import { EC2_BACKEND, ec2Backend, type Ec2Model, fitsInstanceTypes } from './ec2-model.ts';
import { assignImages, type ImageAssignment } from './image-assignment.ts';
import { computeMetrics, type SimMetrics } from './metrics.ts';
import { type PoolShape, uniformPool } from './pool.ts';
import { readWorkload } from './readers/index.ts';
import { POOL_BACKEND, simulate } from './simulator.ts';
import type { Scheduler } from '../core/scheduler.ts';
import type { CellsSpec } from './cells.ts';
import { cellsLeases, cellsMetrics } from './cell-metrics.ts';
import { type CellsRun, simulateCells } from './cell-simulation.ts';

/** Everything one simulation run needs, as a command line or a benchmark states it. */
export interface ExperimentSpec {
  traces: readonly string[];
  injections: readonly string[];
  pool: PoolShape;
  config: SchedulerConfig;
  images: ImageAssignment;
  onProgress?: (fraction: number) => void;
  /** Stop at this instant instead of draining the workload. */
  until?: number;
  /** Burst to an EC2 region when the pool cannot meet a lease's start (issue 16). */
  burst?: { ec2: Ec2Model; policy: BurstPolicy };
  /** The site's terms: requests they refuse are rejected at arrival (the configuration is theirs too: configOfTerms). */
  terms?: Terms;
  /** Split the pool into cells behind a front (cells.ts); not with `burst`. */
  cells?: CellsSpec;
}

export interface ExperimentResult {
  metrics: SimMetrics;
  /** The pool's. */
  scheduler: Scheduler;
  /** Every node the export lists: the pool's, then (bursting) EC2's. */
  nodes: NodeSpec[];
  /** Every lease as the export writes them: the pool's, then (bursting) EC2's. */
  leases: readonly LeaseRecord[];
  /** With bursting: every back-end. */
  backends?: Backends;
  /** With cells: every cell (`scheduler` is then the first cell's). */
  cells?: CellsRun;
}

export function loadRequests(spec: Pick<ExperimentSpec, 'traces' | 'injections' | 'pool' | 'images'>): LeaseRequest[] {
  const perNode = { cpu: spec.pool.cpu, memoryMiB: spec.pool.memoryMiB, diskMiB: 0 };
  const all: LeaseRequest[] = [];
  const seen = new Set<string>();
  [...spec.traces, ...spec.injections].forEach((path, k) => {
    for (const l of readWorkload(path, { perNode, allowStartBeforeArrival: true }).leases) {
      // Ids are unique within a file; a second file's ids get the file's position in front.
      const id = seen.has(l.id) ? `f${k + 1}-${l.id}` : l.id;
      if (seen.has(id)) throw new RangeError(`${path}: lease id '${l.id}' appears twice; give each lease a unique id`);
      seen.add(id);
      all.push(id === l.id ? l : { ...l, id });
    }
  });
  return assignImages(all, spec.images);
}

/**
 * How far V8 lets the heap grow past what a full collection left live, in percent. A simulation
 * keeps every lease to its end, so what is live only grows, and V8's default (up to 4x on a large
 * machine) lets the garbage between full collections take most of the peak: the whole SDSC log
 * (190 MiB live at its end) peaked near 470 MiB, and near 370 MiB at 50%, no slower within the
 * noise of a shared machine. A flag V8 reads at every collection, so set in the process rather
 * than by a re-exec; one given on the node command line is left alone.
 */
export const SIM_HEAP_GROWING_PERCENT = 50;

function limitHeapGrowth(): void {
  if (process.execArgv.some((a) => a.startsWith('--heap-growing-percent') || a.startsWith('--heap_growing_percent'))) return;
  setFlagsFromString(`--heap-growing-percent=${SIM_HEAP_GROWING_PERCENT}`);
}

export function runExperiment(spec: ExperimentSpec, requests: readonly LeaseRequest[] = loadRequests(spec)): ExperimentResult {
  limitHeapGrowth();
  const nodes = uniformPool(spec.pool);
  const started = process.hrtime.bigint();
  if (spec.burst && spec.cells) throw new RangeError('bursting and cells do not go together yet: simulate one or the other');
  if (spec.burst) return runBursting(spec, spec.burst, requests, nodes, started);
  if (spec.cells) return runCells(spec, spec.cells, requests, nodes, started);
  const changes = changesHeard();
  const scheduler = simulate({ requests, nodes, config: spec.config, onProgress: spec.onProgress, until: spec.until, terms: spec.terms, onChange: changes.onChange });
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const leases = scheduler.allLeases();
  return { metrics: { ...computeMetrics(leases, nodes, wallSeconds), charges: simCharges(leases, spec.terms), ...changes.figures() }, scheduler, nodes, leases };
}

/** What became of the workload's changes, for the metrics (none asked: no figures). */
function changesHeard(): { onChange: (o: ChangeOutcome) => void; figures: () => { changes?: ChangeFigures } } {
  const outcomes: ChangeOutcome[] = [];
  return { onChange: (o) => outcomes.push(o), figures: () => (outcomes.length > 0 ? { changes: changeFigures(outcomes) } : {}) };
}

function runBursting(spec: ExperimentSpec, burst: NonNullable<ExperimentSpec['burst']>, requests: readonly LeaseRequest[], nodes: NodeSpec[], started: bigint): ExperimentResult {
  const changes = changesHeard();
  const backends = simulate({
    requests, nodes, config: spec.config, onProgress: spec.onProgress, until: spec.until, terms: spec.terms, onChange: changes.onChange,
    burst: { backends: [ec2Backend(spec.config, burst.ec2)], policy: burst.policy, mayRun: (req) => fitsInstanceTypes(burst.ec2, req) },
  });
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const leases = backends.allLeases();
  // By the scheduler that holds it: a periodic lease's occurrences are made there, whatever their request says.
  const where = new Map<LeaseRecord, string>();
  for (const name of backends.names) for (const l of backends.scheduler(name)!.allLeases()) where.set(l, name);
  const backendOf = (l: LeaseRecord): string => where.get(l)!;
  const metrics = computeMetrics(leases, nodes, wallSeconds, { onPool: (l) => backendOf(l) === POOL_BACKEND });
  metrics.charges = simCharges(leases.filter((l) => backendOf(l) === POOL_BACKEND), spec.terms);
  Object.assign(metrics, changes.figures());
  metrics.burst = burstMetrics(leases, { policy: burst.policy, names: backends.names, backendOf, priced: { [EC2_BACKEND]: burst.ec2 } });
  return { metrics, scheduler: backends.primary, nodes: [...backends.nodes], leases, backends };
}

function runCells(spec: ExperimentSpec, cells: CellsSpec, requests: readonly LeaseRequest[], nodes: NodeSpec[], started: bigint): ExperimentResult {
  const changes = changesHeard();
  const run = simulateCells({ requests, nodes, config: spec.config, onProgress: spec.onProgress, until: spec.until, terms: spec.terms, onChange: changes.onChange }, cells);
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const leases = cellsLeases(run);
  const metrics = { ...cellsMetrics(run, nodes, cells.front, wallSeconds), charges: simCharges(leases, spec.terms), ...changes.figures() };
  return { metrics, scheduler: run.cells[0].scheduler, nodes, leases, cells: run };
}
