// The workload run under another policy: the same loop as the service's (events up to an
// instant first, then that instant's inputs in log order, each followed by a pass of the
// scheduler), so that under the site's own terms it gives the schedule the site had. A lease
// ended while it ran ends again once it has done as much work, however long it waited first (in
// an attempt the site lost to a node, not before it has run longer than that attempt had).

import { Backends } from '../../core/backends.ts';
import type { SchedulerConfig } from '../../core/config.ts';
import { stretchedSeconds } from '../../core/costs.ts';
import { hasEnded } from '../../core/lease-record.ts';
import { countsWork, type Segment } from '../../core/segment.ts';
import type { StepResult } from '../../core/scheduler.ts';
import { type Terms, termsRefusal } from '../../core/terms.ts';
import { EarlyEnds } from '../../sim/early-ends.ts';
import { applyInput, type Input, NodeIndex, type Ownership } from '../inputs.ts';
import type { Person } from './site-log.ts';
import type { Workload, WorkloadStep } from './workload.ts';

export interface WhatIfRun {
  workload: Workload;
  pool: string;
  config: SchedulerConfig;
  /** Its kinds' rules and limits admit each request, as the service's terms check does (quotas and allocations aside). */
  terms: Terms;
  people: Readonly<Record<string, Person>>;
  until?: number;
}

/** Something to do at one instant: a step of the workload, or the end of a run that has done its work. */
type Due = { seq: number; step: WorkloadStep } | { seq: number; ends: Segment };

export function runWhatIf(run: WhatIfRun): Backends {
  const { workload, config, until } = run;
  const backends = new Backends([{ name: run.pool, config, fixed: {} }], [], {}, true);
  const nodes = new NodeIndex();
  const owners = new Map<string, Ownership>();
  const ends = new EarlyEnds();
  /** When a run that began with `doneBefore` seconds of work behind it has done as much as the lease did. */
  const expectEnd = (seg: Segment, doneBefore: number, now: number): void => {
    const ran = countsWork(seg) ? workload.ranFor.get(seg.leaseId) : undefined;
    if (!ran) return;
    const lease = backends.lease(seg.leaseId)!;
    // An attempt the real run lost had not ended when it was lost: it runs at least longer than that.
    const lostRun = ran.lostRuns[lease.lost.length];
    const real = lostRun === undefined ? ran.seconds : Math.max(ran.seconds, lostRun);
    const work = lease.req.kind === 'best-effort' ? stretchedSeconds(real, config.runtimeOverheadPercent) : real;
    ends.expect(seg, seg.start + work - doneBefore, now);
  };
  const heard = (step: StepResult): void => {
    for (const seg of step.started) expectEnd(seg, backends.lease(seg.leaseId)!.done, seg.start);
  };
  const apply = (input: Input, now: number): void => heard(applyInput(backends, nodes, owners, input, now).step);
  const steps = workload.steps;
  let next = 0;
  for (;;) {
    const inputAt = Math.min(next < steps.length ? steps[next].time : Infinity, ends.nextTime());
    const eventAt = backends.nextEventTime();
    const t = Math.min(inputAt, eventAt);
    if (t === Infinity || (until !== undefined && t > until)) break;
    // An event at the instant of an input comes first, as the service's clock brings it before the input.
    if (eventAt <= inputAt) {
      heard(backends.advance(eventAt));
      continue;
    }
    if (backends.time < t) heard(backends.advance(t));
    const due: Due[] = [];
    for (; next < steps.length && steps[next].time === t; next++) due.push({ seq: steps[next].seq, step: steps[next] });
    for (let seg = ends.takeNext(t); seg !== undefined; seg = ends.takeNext(t)) {
      const ran = workload.ranFor.get(seg.leaseId)!;
      // Where it ends when it did, it ends in the log's order; elsewhere before the instant's inputs.
      due.push({ seq: ran.time === t ? ran.seq : -1, ends: seg });
    }
    due.sort((a, b) => a.seq - b.seq);
    for (const d of due) {
      if ('ends' in d) endRun(d.ends.leaseId, t);
      else if (d.step.type !== 'input') request(d.step, t);
      else if (d.step.input.type === 'change') changeIfItCan(d.step.input, t);
      else if (d.step.input.type !== 'cancel' || isLive(d.step.input.id)) apply(d.step.input, t);
    }
  }
  return backends;

  function isLive(id: string): boolean {
    const lease = backends.lease(id);
    return lease !== undefined && !hasEnded(lease);
  }

  /** A change the service made is made here if this policy's schedule lets it; refused, the lease keeps its terms, as a refused change leaves it. */
  function changeIfItCan(input: Extract<Input, { type: 'change' }>, now: number): void {
    const lease = backends.lease(input.id);
    if (!lease || !backends.planChange(input.id, input.change, now, 0).ok) return;
    const running = lease.chain.find((s) => s.active && countsWork(s));
    const endBefore = running?.end ?? Infinity;
    const doneBefore = lease.done;
    apply(input, now);
    // A run made longer in place is not a new start: its work may now end inside it, where it did
    // not before (EarlyEnds keeps only ends inside a run).
    if (running && running.active && !running.removed && running.end > endBefore) expectEnd(running, doneBefore, now);
  }

  function endRun(id: string, now: number): void {
    if (workload.ranFor.get(id)!.ends === 'cancel') {
      if (isLive(id)) apply({ type: 'cancel', id, by: 'replay' }, now);
    } else if (backends.ownerActionRefusal(id, 'finish') === null) {
      apply({ type: 'finish', id }, now);
    }
  }

  /** A request the terms refuse is rejected at its instant, as the service refuses it (a hold then holds nothing). */
  function request(step: Extract<WorkloadStep, { type: 'request' | 'hold' }>, now: number): void {
    const person = run.people[step.owner];
    const refused = termsRefusal(step.request, { group: step.group, memberOf: person?.memberOf ?? [], admin: person?.admin ?? false }, run.terms, now);
    if (step.type === 'request' && !refused) return apply({ type: 'submit', owner: step.owner, group: step.group, request: step.request }, now);
    if (step.type === 'hold' && refused) return;
    owners.set(step.request.id, { owner: step.owner, group: step.group });
    // Under this policy a hold may find no room, or come too late: it was never committed anyway.
    if (step.type === 'hold') backends.hold(step.request, now, step.ttl);
    else backends.primary.refuse(step.request, now, 'policy', `${refused!.message} (terms rule ${refused!.rule})`);
    heard(backends.advance(now));
  }
}
