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

export function runExperiment(spec: ExperimentSpec, requests: readonly LeaseRequest[] = loadRequests(spec)): ExperimentResult {
  const nodes = uniformPool(spec.pool);
  const started = process.hrtime.bigint();
  const scheduler = simulate({ requests, nodes, config: spec.config, onProgress: spec.onProgress, until: spec.until });
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { metrics: computeMetrics(scheduler.allLeases(), nodes, wallSeconds), scheduler, nodes };
}
