import type { Backends } from '../core/backends.ts';
import { Scheduler } from '../core/scheduler.ts';
import type { SchedulerConfig } from '../core/config.ts';
import type { Done, LeaseRequest, NodeSpec } from '../core/types.ts';
import type { Terms } from '../core/terms.ts';
import { submitUnder } from './terms-admission.ts';
import { type BurstInput, simulateBursting } from './burst-simulation.ts';
import { EarlyEnds, mustEndEarly } from './early-ends.ts';
import { realWorkOf } from './real-work.ts';
import type { LeaseRecord } from '../core/lease-record.ts';
import type { Segment } from '../core/segment.ts';
import { type ChangeOutcome, WorkloadChanges } from './workload-changes.ts';

export { realWorkOf } from './real-work.ts';
export { type BurstInput, POOL_BACKEND } from './burst-simulation.ts';

export interface SimulationInput {
  requests: readonly LeaseRequest[];
  nodes: readonly NodeSpec[];
  config: SchedulerConfig;
  /** Called now and then with the fraction of requests submitted so far. */
  onProgress?: (fraction: number) => void;
  /** Stop at this instant (the scheduler advanced to it, later arrivals not submitted) instead of draining. */
  until?: number;
  /** The site's terms: a request they refuse is rejected at its arrival (reason policy), as the service refuses it. */
  terms?: Terms;
  /** Hears what became of each change the workload asks for (LeaseRequest.changes). */
  onChange?: (outcome: ChangeOutcome) => void;
}

/** A workload the scheduler refuses to take in (two leases with one id) cannot be simulated. */
function mustDo(r: Done): void {
  if (!r.ok) throw new RangeError(r.message);
}

/**
 * Drives the scheduler on a simulated clock: submits each request at its arrival, ends each
 * lease when its real work is done, and jumps from one event to the next. With `burst`, the pool
 * and the back-ends it may burst to, each request sent where the site's policy chooses.
 */
export function simulate(input: SimulationInput & { burst: BurstInput }): Backends;
export function simulate(input: SimulationInput): Scheduler;
export function simulate(input: SimulationInput & { burst?: BurstInput }): Scheduler | Backends {
  if (input.burst) return simulateBursting({ ...input, burst: input.burst });
  const { config } = input;
  const requests = [...input.requests].sort((a, b) => a.arrival - b.arrival);
  const scheduler = new Scheduler(input.nodes, config);
  const earlyEnds = new EarlyEnds();
  const changes = new WorkloadChanges(() => config.runtimeOverheadPercent);
  const workOf = (lease: LeaseRecord): number => realWorkOf(lease.req, config);
  const expectEnds = (runs: readonly Segment[], changedAt?: number): void => earlyEnds.expectRuns(runs, scheduler, workOf, changedAt);
  let next = 0;
  let lastReport = 0;
  for (;;) {
    const arrival = next < requests.length ? requests[next].arrival : Infinity;
    const now = Math.min(arrival, scheduler.nextEventTime(), earlyEnds.nextTime(), changes.nextTime());
    if (input.until !== undefined && now > input.until) {
      if (scheduler.time < input.until) scheduler.advance(input.until);
      break;
    }
    if (now === Infinity) break;
    for (let run = earlyEnds.takeNext(now); run !== undefined; run = earlyEnds.takeNext(now)) {
      const lease = scheduler.lease(run.leaseId)!;
      // A change may have given the workload more to do since this end was expected.
      if (mustEndEarly(lease, run, now, workOf(lease))) mustDo(scheduler.finishEarly(run.leaseId, now));
    }
    while (next < requests.length && requests[next].arrival === now) {
      changes.heard(requests[next]);
      mustDo(submitUnder(scheduler, requests[next++], now, input.terms));
    }
    expectEnds(scheduler.advance(now).started);
    if (changes.nextTime() === now) {
      // A running lease's real work may have changed: its end is expected anew.
      expectEnds(changes.makeDue(scheduler, now, input.onChange), now);
      expectEnds(scheduler.advance(now).started);
    }
    if (input.onProgress && next - lastReport >= 1000) {
      lastReport = next;
      input.onProgress(next / requests.length);
    }
  }
  input.onProgress?.(1);
  return scheduler;
}
