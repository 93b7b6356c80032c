// "What really happened": the log replayed verbatim into a fresh scheduler, as the service does
// at start (control-loop.ts replay), so that its schedule is the one the site's GET /v1/schedule
// shows. On the way it notes what the what-if needs of it: the holds never committed, the terms
// in force last, and how long each lease an owner's stop or cancel (or its VM's end) ended while
// it ran had run.

import { Backends } from '../../core/backends.ts';
import type { SchedulerConfig } from '../../core/config.ts';
import { unstretchedSeconds, workCovering } from '../../core/costs.ts';
import type { LeaseRecord } from '../../core/lease-record.ts';
import { countsWork } from '../../core/segment.ts';
import type { Terms } from '../../core/terms.ts';
import type { InputRow } from '../../store/store.ts';
import { applyInput, type Input, NodeIndex, type Ownership } from '../inputs.ts';
import { termsOfConfig } from '../site-terms.ts';
import { ReplayRefused } from './site-log.ts';

/** A lease ended while it ran, by its owner (stop, cancel) or by its VM (it exited, or failed). */
export interface RunLength {
  /** Seconds of work it had done, as the request counts them (a best-effort lease's runtime overhead taken out). */
  seconds: number;
  /**
   * For each earlier attempt lost to a node, the least work (as `seconds` counts it) that outlasts
   * the run it had: its VM had not ended by then, so under another policy that attempt, if not
   * lost, runs at least so long.
   */
  lostRuns: number[];
  /** A stop or an exit finished its work; a cancel or a failure threw the rest away. */
  ends: 'finish' | 'cancel';
  /** The input that ended it. */
  time: number;
  seq: number;
}

export interface RealRun {
  backends: Backends;
  /** The one back-end a replay knows, the site's own pool (on a driver that can do everything: simulated, qemu), by the name requests gave it. */
  pool: string;
  /** Holds never committed: no lease of the workload's. */
  neverCommitted: ReadonlySet<string>;
  /** The terms in force at the end of the log: the defaults with the service's configuration if it logged none. */
  lastTerms: Terms;
  ranFor: ReadonlyMap<string, RunLength>;
}

const KNOWN: ReadonlySet<string> = new Set<Input['type']>([
  'tick', 'submit', 'hold', 'commit', 'cancel', 'suspend', 'resume', 'finish', 'fail', 'node-add', 'node-drain', 'node-unavailable', 'node-available', 'node-departs', 'costs', 'migrate', 'terms', 'change',
]);

/**
 * `config`: the configuration the service was opened with (vws serve's: the defaults); `until`: the
 * instant to stop at (absent: once nothing more is planned, every lease carried to its end).
 */
export function replayAsItRan(inputs: readonly InputRow[], config: SchedulerConfig, until?: number): RealRun {
  const pool = poolOf(inputs);
  const backends = new Backends([{ name: pool, config, fixed: {} }], [], {}, true);
  const nodes = new NodeIndex();
  const owners = new Map<string, Ownership>();
  const held = new Set<string>();
  const ranFor = new Map<string, RunLength>();
  let lastTerms = termsOfConfig(config);
  for (const row of inputs) {
    const input = replayable(row);
    advanceTo(backends, row.time);
    if (backends.time < row.time) backends.advance(row.time);
    const ending = input.type === 'cancel' || input.type === 'fail' || input.type === 'finish' ? input.id : null;
    const wasRunning = ending !== null && isRunning(backends, ending);
    applyInput(backends, nodes, owners, input, row.time);
    if (input.type === 'hold') held.add(input.request.id);
    if (input.type === 'commit') held.delete(input.id);
    if (input.type === 'terms') lastTerms = input.terms;
    if (wasRunning) {
      const lease = backends.lease(ending)!;
      const seconds = lease.req.kind === 'best-effort' ? unstretchedSeconds(lease.done, backends.primary.config.runtimeOverheadPercent) : lease.done;
      // Stopped at the instant its run began, it never ran: the core withdrew it as a cancel.
      if (seconds > 0) ranFor.set(ending, { seconds, lostRuns: lostRuns(lease, backends.primary.config.runtimeOverheadPercent), ends: input.type === 'finish' ? 'finish' : 'cancel', time: row.time, seq: row.seq });
    }
  }
  advanceTo(backends, until ?? Infinity);
  return { backends, pool, neverCommitted: held, lastTerms, ranFor };
}

function lostRuns(lease: LeaseRecord, overheadPercent: number): number[] {
  const overhead = lease.req.kind === 'best-effort' ? overheadPercent : 0;
  return lease.lost.map((a) => workCovering(a.segments.reduce((sum, seg) => sum + (countsWork(seg) ? seg.end - seg.start : 0), 0) + 1, overhead));
}

/** Every scheduler event up to `t`, in order, as the service's clock brings them. */
export function advanceTo(backends: Backends, t: number): void {
  for (let e = backends.nextEventTime(); e <= t && e !== Infinity; e = backends.nextEventTime()) backends.advance(e);
}

function isRunning(backends: Backends, id: string): boolean {
  return backends.lease(id)?.chain.some((s) => s.active && countsWork(s)) ?? false;
}

/** The input of a row a replay can take: one this vws knows, on a site of one pool. */
function replayable(row: InputRow): Input {
  const input = row.data as Input;
  if (!KNOWN.has(input?.type)) throw new ReplayRefused(`${where(row)} is of type '${String(input?.type)}', which this vws does not know: replay the log with the vws that wrote it`);
  return input;
}

const where = (row: InputRow): string => `input ${row.seq} (time ${row.time})`;

/**
 * The name of the site's one back-end: the one requests name, if any does (a client may name
 * the pool's own driver); else any. A log of a site with more back-ends is refused.
 */
function poolOf(inputs: readonly InputRow[]): string {
  let named: string | undefined;
  for (const row of inputs) {
    const input = row.data as Input;
    const request = input?.type === 'submit' || input?.type === 'hold' ? input.request : undefined;
    const beyond = input?.type === 'node-add' && input.backend !== undefined ? `adds node '${input.node.id}' to back-end '${input.backend}'`
      : request?.burst !== undefined ? `lets lease '${request.id}' burst to back-end '${request.burst.backend}'`
        : input?.type === 'change' && input.change.backend !== undefined ? `moves lease '${input.id}' to back-end '${input.change.backend}'`
        : request?.backend !== undefined && named !== undefined && request.backend !== named ? `sends lease '${request.id}' to back-end '${request.backend}', another than '${named}'`
          : null;
    if (beyond) throw new ReplayRefused(`${where(row)} ${beyond}: a replay knows a site of one pool (no --burst-to back-end), and this one had more`);
    named ??= request?.backend;
  }
  return named ?? 'site';
}
