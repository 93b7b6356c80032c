import { setFlagsFromString } from 'node:v8';
import type { SchedulerConfig } from '../core/config.ts';
import type { LeaseRequest, NodeSpec } from '../core/types.ts';
import { assignImages, type ImageAssignment } from './image-assignment.ts';
import { computeMetrics, type SimMetrics } from './metrics.ts';
import { type PoolShape, uniformPool } from './pool.ts';
import { readWorkload } from './readers/index.ts';
import { simulate } from './simulator.ts';
import type { Scheduler } from '../core/scheduler.ts';

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
}

export interface ExperimentResult {
  metrics: SimMetrics;
  scheduler: Scheduler;
  nodes: NodeSpec[];
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
  const scheduler = simulate({ requests, nodes, config: spec.config, onProgress: spec.onProgress, until: spec.until });
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { metrics: computeMetrics(scheduler.allLeases(), nodes, wallSeconds), scheduler, nodes };
}
