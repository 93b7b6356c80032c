// The changes a simulated workload's owners ask for (LWF <change>), made at their instants as a
// service makes an owner's change: planned first, made only if the plan says it can be.

import { BoundaryHeap } from '../core/boundary-heap.ts';
import type { Scheduler } from '../core/scheduler.ts';
import { workCovering } from '../core/costs.ts';
import type { LeaseRecord } from '../core/lease-record.ts';
import { countsWork, type Segment } from '../core/segment.ts';
import type { LeaseChange, LeaseRequest, RefusalCode } from '../core/types.ts';

/** What changes are made on: one pool's scheduler, or every back-end (Backends). */
export type ChangeTarget = Pick<Scheduler, 'planChange' | 'change' | 'lease'>;

/** What became of one asked change. */
export interface ChangeOutcome {
  at: number;
  leaseId: string;
  change: LeaseChange;
  made: boolean;
  code?: RefusalCode;
}

/** The figures of a run's changes, for its metrics. */
export interface ChangeFigures {
  asked: number;
  made: number;
  /** Refused changes by the core's code. */
  refused: Partial<Record<RefusalCode, number>>;
}

export class WorkloadChanges {
  private readonly heap = new BoundaryHeap<{ id: string; change: LeaseChange }>();

  /** `overheadOf`: the runtime overhead (percent) a lease's best-effort runs are stretched by, on its back-end. */
  constructor(private readonly overheadOf: (lease: LeaseRecord) => number) {}

  /** Takes in the changes of a request as it is submitted. */
  heard(req: LeaseRequest): void {
    for (const c of req.changes ?? []) this.heap.push(c.at, 0, { id: req.id, change: c.change });
  }

  nextTime(): number {
    return this.heap.peekTime();
  }

  /**
   * Makes every change due at `now` that can be made (the target must be at `now`); says what
   * became of each, and returns the runs of the changed leases under way, whose real work may now
   * end at another instant.
   */
  makeDue(target: ChangeTarget, now: number, heard?: (o: ChangeOutcome) => void): Segment[] {
    const runs: Segment[] = [];
    while (this.heap.peekTime() === now) {
      const { id, change: asked } = this.heap.pop()!;
      const change = this.realizable(target.lease(id), asked, now);
      const plan = target.planChange(id, change, now, 0);
      if (plan.ok) target.change(id, change, now, plan);
      heard?.(plan.ok ? { at: now, leaseId: id, change: asked, made: true } : { at: now, leaseId: id, change: asked, made: false, code: plan.code });
      const run = plan.ok ? target.lease(id)!.chain.find((seg) => seg.kind === 'run' && seg.active) : undefined;
      if (run) runs.push(run);
    }
    return runs;
  }

  /**
   * Work done cannot be undone: a new real run shorter than what a running lease has run ends it
   * now, having run what it ran (the export's real duration then says so). A lease not running
   * (suspended, say), or whose run begins at this instant, runs at least one second more: a
   * resumption is followed by a run.
   */
  private realizable(lease: LeaseRecord | undefined, change: LeaseChange, now: number): LeaseChange {
    if (change.realDuration === undefined || !lease) return change;
    const run = lease.chain.find((seg) => countsWork(seg) && seg.active);
    const least = run && run.start < now ? lease.done + now - run.start : lease.done + 1;
    const real = workCovering(least, lease.req.kind === 'best-effort' ? this.overheadOf(lease) : 0);
    return real > change.realDuration ? { ...change, realDuration: real } : change;
  }
}

export function changeFigures(outcomes: readonly ChangeOutcome[]): ChangeFigures {
  const refused: ChangeFigures['refused'] = {};
  for (const o of outcomes) if (!o.made) refused[o.code!] = (refused[o.code!] ?? 0) + 1;
  return { asked: outcomes.length, made: outcomes.filter((o) => o.made).length, refused };
}
