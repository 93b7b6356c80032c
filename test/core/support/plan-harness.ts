// A harness that captures the scheduler's plans (in the spirit of Nomad's scheduler Harness):
// every plan made, for a quote or a decision, and every plan applied, are recorded; a quote can
// be taken without applying it; and a workload can be driven with each request quoted first
// and its quoted plan handed to submit, as the service's create does.

import type { SchedulerConfig } from '../../../src/core/config.ts';
import { type Plan, Scheduler, type StepResult } from '../../../src/core/scheduler.ts';
import type { LeaseRequest, NodeSpec } from '../../../src/core/types.ts';
import { EarlyEnds } from '../../../src/sim/early-ends.ts';
import { scheduleLines } from '../../../src/sim/schedule-export.ts';
import { realWorkOf } from '../../../src/sim/simulator.ts';

export class PlanHarness {
  readonly scheduler: Scheduler;
  /** Every plan made, in order: quoted ones and those made to decide a request. */
  readonly planned: Plan[] = [];
  /** Every plan applied, in order. */
  readonly applied: Plan[] = [];
  /** Each step's decisions, as JSON, in order. */
  readonly decisions: string[] = [];

  constructor(readonly nodes: readonly NodeSpec[], readonly config: SchedulerConfig) {
    this.scheduler = new Scheduler(nodes, config, [], { planned: (p) => this.planned.push(p), applied: (p) => this.applied.push(p) });
  }

  /** The plan for `req` now, not applied: a quote. */
  quote(req: LeaseRequest, now: number): Plan {
    if (this.scheduler.time < now) this.step(now);
    return this.scheduler.plan(req, now);
  }

  /**
   * Runs the requests to the end, as the simulator does (each lease ends when its real work is
   * done), but deciding each request in a step of its own. With `quoteFirst`, each request is
   * quoted and submitted with its quoted plan; otherwise it is submitted alone and planned when
   * decided. Returns the schedule export.
   */
  run(requests: readonly LeaseRequest[], quoteFirst: boolean): string[] {
    const s = this.scheduler;
    const byArrival = [...requests].sort((a, b) => a.arrival - b.arrival);
    const earlyEnds = new EarlyEnds();
    let next = 0;
    for (let guard = 0; guard < 1_000_000; guard++) {
      const now = Math.min(byArrival[next]?.arrival ?? Infinity, s.nextEventTime(), earlyEnds.nextTime());
      if (now === Infinity) return [...scheduleLines(s.allLeases(), this.nodes)];
      for (const run of earlyEnds.takeAt(now)) {
        const lease = s.lease(run.leaseId)!;
        const after = lease.chain[lease.chain.indexOf(run) + 1];
        if (now < run.end || lease.chainEndsIn === 'suspend' || (after !== undefined && after.kind !== 'shutdown')) s.finishEarly(run.leaseId, now);
      }
      this.watch(this.step(now), earlyEnds);
      while (next < byArrival.length && byArrival[next].arrival === now) {
        const req = byArrival[next++];
        const submitted = s.submit(req, now, quoteFirst ? s.plan(req, now) : undefined);
        if (!submitted.ok) throw new Error(submitted.message);
        this.watch(this.step(now), earlyEnds);
      }
    }
    throw new Error('the run did not end');
  }

  private step(now: number): StepResult {
    const step = this.scheduler.advance(now);
    this.decisions.push(JSON.stringify({ now, decisions: step.decisions }));
    return step;
  }

  private watch(step: StepResult, earlyEnds: EarlyEnds): void {
    earlyEnds.expectRuns(step.started, this.scheduler, (lease) => realWorkOf(lease.req, this.config));
  }
}
