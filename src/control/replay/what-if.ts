// What-if replay of a site's own history (issue 20, item 3): its log replayed as it ran, and the
// same log as a workload under another policy document, side by side on one time axis. Pure: the
// log in (read-site-log.ts reads it from a store), plain data out, so that a worker thread can run
// it for the dashboard and post the result back as it is.

import { configWith, type SchedulerConfig } from '../../core/config.ts';
import type { Backends } from '../../core/backends.ts';
import type { LeaseRecord } from '../../core/lease-record.ts';
import { seriesOf } from '../../core/periodic.ts';
import { configOfTerms, type Terms } from '../../core/terms.ts';
import type { NodeSpec } from '../../core/types.ts';
import { simCharges } from '../../sim/charges.ts';
import { computeMetrics, type SimMetrics } from '../../sim/metrics.ts';
import { scheduleLines } from '../../sim/schedule-export.ts';
import { replayAsItRan } from './as-it-ran.ts';
import { ReplayRefused, type SiteLog } from './site-log.ts';
import { runWhatIf } from './what-if-run.ts';
import { type Dropped, workloadOf } from './workload.ts';

export interface ReplaySide {
  metrics: SimMetrics;
  /** Its vws.schedule/v1 export, line by line (the header first). */
  schedule: string[];
  terms: Terms;
}

export interface WhatIfResult {
  /** What really happened: the log replayed verbatim. */
  real: ReplaySide;
  /** The same requests and node changes under the policy document. */
  whatIf: ReplaySide;
  /** Every node the log added, in the schedules' order. */
  nodes: NodeSpec[];
  /** The log's first and last instants (epoch seconds); both schedules are on this axis. */
  from: number;
  to: number;
  inputs: number;
  dropped: Dropped;
  /** Holds never committed: in both schedules, holding their room until they ran out, and no lease in the figures. */
  holdsNeverCommitted: number;
}

export interface WhatIfOptions {
  /** The configuration the service was opened with, before any terms were logged (vws serve's: the defaults). */
  config?: SchedulerConfig;
  /** Stop both at this instant, as the site shows its schedule then; absent: carry every lease to its end. */
  until?: number;
}

/** `terms`: the policy document; null, the site's own terms, those in force at the end of its log. */
export function whatIf(log: SiteLog, terms: Terms | null, options: WhatIfOptions = {}): WhatIfResult {
  const pilots = log.nodes.filter((n) => n.pilot !== null);
  if (pilots.length > 0) {
    throw new ReplayRefused(`the site's nodes came from pilot jobs (${pilots[0].id}, job ${pilots[0].pilot}): a replay knows a pool of the site's own, not a pilot back-end's depot and departures`);
  }
  const config = options.config ?? configWith({});
  const from = log.inputs.length > 0 ? log.inputs[0].time : 0;
  const to = log.inputs.length > 0 ? log.inputs[log.inputs.length - 1].time : 0;

  let started = performance.now();
  const real = replayAsItRan(log.inputs, config, options.until);
  const leases = (b: Backends): LeaseRecord[] => b.allLeases().filter((l) => !real.neverCommitted.has(seriesOf(l.req.id) ?? l.req.id));
  const realSide = side(real.backends, leases(real.backends), real.lastTerms, from, started);

  started = performance.now();
  const document = terms ?? real.lastTerms;
  const workload = workloadOf(log.inputs, real);
  const run = runWhatIf({ workload, pool: real.pool, config: configOfTerms(document), terms: document, people: log.people, until: options.until });
  const whatIfSide = side(run, leases(run), document, from, started);

  return {
    real: realSide, whatIf: whatIfSide, nodes: [...real.backends.nodes], from, to, inputs: log.inputs.length, dropped: workload.dropped, holdsNeverCommitted: real.neverCommitted.size,
  };
}

/** `leases`: those the metrics count; the export has every one the scheduler has. */
function side(backends: Backends, leases: readonly LeaseRecord[], terms: Terms, from: number, started: number): ReplaySide {
  const schedule = [...scheduleLines(backends.allLeases(), backends.nodes)];
  const wallSeconds = (performance.now() - started) / 1000;
  return { metrics: { ...computeMetrics(leases, backends.nodes, wallSeconds, undefined, from), charges: simCharges(leases, terms) }, schedule, terms };
}
