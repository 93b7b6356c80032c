// The changes a simulated workload's owners ask for (LWF <change>), made at their instants as a
// service makes an owner's change: planned first, made only if the plan says it can be.

import { BoundaryHeap } from '../core/boundary-heap.ts';
import type { Scheduler } from '../core/scheduler.ts';
import type { LeaseChange, LeaseRequest, RefusalCode } from '../core/types.ts';

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

  /** Takes in the changes of a request as it is submitted. */
  heard(req: LeaseRequest): void {
    for (const c of req.changes ?? []) this.heap.push(c.at, 0, { id: req.id, change: c.change });
  }

  nextTime(): number {
    return this.heap.peekTime();
  }

  /** Makes every change due at `now` that can be made (the scheduler must be at `now`); says what became of each. */
  makeDue(scheduler: Scheduler, now: number, heard: (o: ChangeOutcome) => void): boolean {
    let any = false;
    while (this.heap.peekTime() === now) {
      const { id, change } = this.heap.pop()!;
      const plan = scheduler.planChange(id, change, now, 0);
      if (plan.ok) scheduler.change(id, change, now, plan);
      heard(plan.ok ? { at: now, leaseId: id, change, made: true } : { at: now, leaseId: id, change, made: false, code: plan.code });
      any ||= plan.ok;
    }
    return any;
  }
}

export function changeFigures(outcomes: readonly ChangeOutcome[]): ChangeFigures {
  const refused: ChangeFigures['refused'] = {};
  for (const o of outcomes) if (!o.made) refused[o.code!] = (refused[o.code!] ?? 0) + 1;
  return { asked: outcomes.length, made: outcomes.filter((o) => o.made).length, refused };
}
