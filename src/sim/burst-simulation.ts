// The simulator's loop when the site may burst (issue 16): the pool and other back-ends (an EC2
// region) under one Backends, each arriving request planned on the pool and on every back-end that
// may run it, and sent where the site's policy (core/bursting.ts) chooses, as the service would.
// A loop of its own: without bursting, simulator.ts drives a plain Scheduler as fast as it can.

import { type BackendSpec, Backends } from '../core/backends.ts';
import { type BackendOption, type BurstPolicy, chooseBackend } from '../core/bursting.ts';
import type { SchedulerConfig } from '../core/config.ts';
import type { LeaseRecord } from '../core/lease-record.ts';
import type { Segment } from '../core/segment.ts';
import type { Done, LeaseRequest, NodeSpec } from '../core/types.ts';
import { EarlyEnds, mustEndEarly } from './early-ends.ts';
import { realWorkOf } from './real-work.ts';
import { refusedByTerms } from './terms-admission.ts';
import { type ChangeOutcome, WorkloadChanges } from './workload-changes.ts';
import type { Terms } from '../core/terms.ts';

/** The name of the site's own pool among the back-ends. */
export const POOL_BACKEND = 'pool';

export interface BurstInput {
  /** The back-ends beyond the pool, in the order the site prefers them. */
  backends: readonly BackendSpec[];
  policy: BurstPolicy;
  /** Whether `backend` can run the request at all (no instance type fits its shape: no). */
  mayRun: (req: LeaseRequest, backend: string) => boolean;
}

export interface BurstSimulationInput {
  requests: readonly LeaseRequest[];
  nodes: readonly NodeSpec[];
  config: SchedulerConfig;
  burst: BurstInput;
  onProgress?: (fraction: number) => void;
  until?: number;
  terms?: Terms;
  /** Hears what became of each change the workload asks for (LeaseRequest.changes). */
  onChange?: (o: ChangeOutcome) => void;
}

function mustDo(r: Done): void {
  if (!r.ok) throw new RangeError(r.message);
}

export function simulateBursting(input: BurstSimulationInput): Backends {
  const { config, burst } = input;
  const requests = [...input.requests].sort((a, b) => a.arrival - b.arrival);
  const backends = new Backends([{ name: POOL_BACKEND, config, nodes: input.nodes }, ...burst.backends]);
  const others = backends.names.slice(1);
  const earlyEnds = new EarlyEnds();
  const configOf = (lease: LeaseRecord): SchedulerConfig => backends.scheduler(backends.backendOf(lease.req))!.config;
  const changes = new WorkloadChanges((lease) => configOf(lease).runtimeOverheadPercent);
  /** Whether something was submitted or ended since the last step: a plan made now would not see it. */
  let unapplied = false;
  let steppedAt = -Infinity;

  /** The real seconds of work of a lease, under its own back-end's configuration. */
  const realWork = (lease: LeaseRecord): number => realWorkOf(lease.req, configOf(lease));
  const expectEnds = (runs: readonly Segment[], changedAt?: number): void => earlyEnds.expectRuns(runs, backends, realWork, changedAt);
  const step = (now: number): void => {
    unapplied = false;
    steppedAt = now;
    expectEnds(backends.advance(now).started);
  };

  const send = (req: LeaseRequest, now: number): void => {
    changes.heard(req);
    const byTerms = refusedByTerms(req, now, input.terms);
    if (byTerms) return void mustDo(backends.scheduler(POOL_BACKEND)!.refuse({ ...req, backend: POOL_BACKEND }, now, 'policy', byTerms));
    const candidates = others.filter((name) => burst.mayRun(req, name));
    if (candidates.length === 0) {
      // No choice to make: the pool takes it as a plain simulation would, planned when applied.
      mustDo(backends.submit({ ...req, backend: POOL_BACKEND }, now));
      unapplied = true;
      return;
    }
    // The back-ends plan at `now` with every earlier request in place, those of this instant too.
    if (unapplied || steppedAt !== now) step(now);
    const options: BackendOption[] = [POOL_BACKEND, ...candidates].map((backend) => ({ backend, plan: backends.plan({ ...req, backend }, now) }));
    const { chosen, later } = chooseBackend(options, { now, queued: backends.primary.queueLength, bootSeconds: config.bootSeconds }, burst.policy);
    const option = options[chosen];
    mustDo(backends.submit({ ...req, backend: option.backend, ...(later ? { burst: later } : {}) }, now, option.plan ?? undefined));
    unapplied = true;
  };

  let next = 0;
  let lastReport = 0;
  for (;;) {
    const arrival = next < requests.length ? requests[next].arrival : Infinity;
    const now = Math.min(arrival, backends.nextEventTime(), earlyEnds.nextTime(), changes.nextTime());
    if (input.until !== undefined && now > input.until) {
      if (backends.time < input.until) step(input.until);
      break;
    }
    if (now === Infinity) break;
    for (let run = earlyEnds.takeNext(now); run !== undefined; run = earlyEnds.takeNext(now)) {
      const lease = backends.lease(run.leaseId)!;
      if (mustEndEarly(lease, run, now, realWork(lease))) {
        mustDo(backends.finishEarly(run.leaseId, now));
        unapplied = true;
      }
    }
    while (next < requests.length && requests[next].arrival === now) send(requests[next++], now);
    step(now);
    if (changes.nextTime() === now) {
      // Made on whichever back-end holds the lease, as the service makes an owner's change.
      expectEnds(changes.makeDue(backends, now, input.onChange), now);
      step(now);
    }
    if (input.onProgress && next - lastReport >= 1000) {
      lastReport = next;
      input.onProgress(next / requests.length);
    }
  }
  input.onProgress?.(1);
  return backends;
}
