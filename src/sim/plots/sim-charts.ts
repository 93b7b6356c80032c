// The charts of `vws sim --plot DIR`, made from a finished run: the pool's utilization and the
// queue over time, and the waits of best-effort leases by size.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LeaseRecord } from '../../core/lease-record.ts';
import type { ExperimentResult } from '../experiment.ts';
import { POOL_BACKEND } from '../simulator.ts';
import { valueText } from './axis-scale.ts';
import { barChart } from './bar-chart.ts';
import { lineChart, type Step } from './line-chart.ts';
import { horizonOf, queueSeries, utilizationSeries } from './run-series.ts';
import { bucketWidth, type Bucket } from './time-buckets.ts';
import { waitsBySize } from './waits-by-size.ts';

/** What the charts are drawn from. */
export interface ChartInput {
  /** Every lease of the run, in the order the export writes them. */
  leases: readonly LeaseRecord[];
  /** Those that ran on the site's own pool, and the pool's CPUs: utilization is the pool's, as in the metrics. */
  poolLeases: readonly LeaseRecord[];
  poolCpu: number;
  /** Whether ties in arrival go by position in `leases` (several back-ends or cells), as the metrics break them. */
  byListOrder: boolean;
}

/** The pool's share of a run: with bursting, the leases the pool held and its own nodes. */
export function chartInputOf(result: ExperimentResult): ChartInput {
  const { backends, leases, nodes } = result;
  if (!backends) return { leases, poolLeases: leases, poolCpu: nodes.reduce((a, n) => a + n.cpu, 0), byListOrder: result.cells !== undefined };
  const onPool = new Set(backends.scheduler(POOL_BACKEND)!.allLeases());
  const poolCpu = nodes.reduce((a, n, i) => a + (backends.nodeBackend(i) === POOL_BACKEND ? n.cpu : 0), 0);
  return { leases, poolLeases: leases.filter((l) => onPool.has(l)), poolCpu, byListOrder: true };
}

export interface Chart {
  file: string;
  svg: string;
}

const TIME_AXIS = 'time since the workload began';

const steps = (buckets: readonly Bucket[], value: (b: Bucket) => number): Step[] => buckets.map((b) => ({ from: b.from, to: b.to, value: value(b) }));

/** The mean over the whole run of a bucketed figure (buckets weighted by what they cover). */
function overallMean(buckets: readonly Bucket[], value: (b: Bucket) => number): number {
  const span = buckets.length === 0 ? 0 : buckets[buckets.length - 1].to;
  return span === 0 ? 0 : buckets.reduce((a, b) => a + value(b) * (b.to - b.from), 0) / span;
}

function utilizationChart(input: ChartInput, end: number, width: number): Chart {
  const { runs, overheads } = utilizationSeries(input.poolLeases, input.poolCpu, end, width);
  const held = runs.map((r, i) => ({ ...r, mean: r.mean + overheads[i].mean }));
  const anyOverhead = overheads.some((b) => b.mean > 0);
  const series = [{ name: 'runs', steps: steps(runs, (b) => b.mean) }, ...(anyOverhead ? [{ name: 'runs and overheads', steps: steps(held, (b) => b.mean) }] : [])];
  const mean = (bs: readonly Bucket[]): string => valueText('fraction', overallMean(bs, (b) => b.mean));
  return {
    file: 'utilization.svg',
    svg: lineChart({
      title: 'Utilization of the pool',
      description: `The share of the pool's ${input.poolCpu} CPUs held by leases' runs${anyOverhead ? ', and by runs and their overheads (boot, shutdown, suspension, resumption, migration) together' : ''}, `
        + `as the mean over each ${valueText('seconds', width)} of ${valueText('seconds', end)}: runs ${mean(runs)} over the whole run${anyOverhead ? `, runs and overheads ${mean(held)}` : ''}.`,
      xLabel: TIME_AXIS, yLabel: "share of the pool's CPUs", yKind: 'fraction', yRange: [0, 1], series,
    }),
  };
}

function queueChart(input: ChartInput, end: number, width: number): Chart {
  const queue = queueSeries(input.leases, end, width);
  const most = queue.reduce((m, b) => Math.max(m, b.peak), 0);
  return {
    file: 'queue.svg',
    svg: lineChart({
      title: 'Best-effort leases waiting',
      description: `Best-effort leases that have arrived and not yet started, or are suspended and waiting to resume, for each ${valueText('seconds', width)} of ${valueText('seconds', end)}: `
        + `the mean number waiting (${valueText('count', overallMean(queue, (b) => b.mean))} over the whole run) and the most waiting at once (${most}).`,
      xLabel: TIME_AXIS, yLabel: 'leases waiting', yKind: 'count',
      series: [{ name: 'mean', steps: steps(queue, (b) => b.mean) }, { name: 'most at once', steps: steps(queue, (b) => b.peak) }],
    }),
  };
}

function waitsChart(input: ChartInput): Chart {
  const classes = waitsBySize(input.leases, input.byListOrder);
  const label = (low: number, high: number): string => (low === high ? String(low) : `${low}\u2013${high}`);
  const described = classes.filter((c) => c.leases > 0)
    .map((c) => `${label(c.low, c.high)} node${c.high === 1 ? '' : 's'}: ${c.leases} lease${c.leases === 1 ? '' : 's'}, mean ${valueText('seconds', c.meanWait)}, longest ${valueText('seconds', c.maxWait)}`);
  return {
    file: 'waits-by-size.svg',
    svg: barChart({
      title: 'Waits of best-effort leases by size',
      description: `The mean and the longest wait (arrival to first start) of completed best-effort leases past the first 5% by arrival, by the nodes they asked for: ${described.length > 0 ? described.join('; ') : 'none completed'}.`,
      xLabel: 'nodes per lease (leases measured)', yLabel: 'wait (arrival to first start)', yKind: 'seconds', series: ['mean wait', 'longest wait'],
      groups: classes.map((c) => ({ label: label(c.low, c.high), note: `(${c.leases})`, values: c.leases > 0 ? [c.meanWait, c.maxWait] : [null, null] })),
    }),
  };
}

export function simCharts(input: ChartInput): Chart[] {
  const end = Math.max(1, horizonOf(input.leases));
  const width = bucketWidth(end);
  return [utilizationChart(input, end, width), queueChart(input, end, width), waitsChart(input)];
}

/** Writes the charts of a run into `dir` (made if missing); returns the files' paths. */
export function writeSimPlots(dir: string, result: ExperimentResult): string[] {
  mkdirSync(dir, { recursive: true });
  return simCharts(chartInputOf(result)).map(({ file, svg }) => {
    const path = join(dir, file);
    writeFileSync(path, svg);
    return path;
  });
}
