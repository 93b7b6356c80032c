// When each back-end of a site (backends.ts) steps. A service steps every one at every instant the
// site steps (its log holds those instants, and a replay steps every back-end at them alike); a
// simulation steps each only at its own events and at the inputs it is given, at the instants it
// would step at alone: a step at another instant can change a decision (docs/backends.md).

import type { Scheduler, StepResult } from './scheduler.ts';

export class BackendSteps {
  /** Back-ends given an input since their last step: the next step decides it. */
  private readonly touched = new Set<Scheduler>();
  /** Steps taken to bring a back-end to an input's instant, reported with the next step. */
  private early: StepResult[] = [];
  /** Each back-end's next event as it named it when first asked since it last stepped or took an input: see due. */
  private readonly named = new Map<Scheduler, number>();
  private readonly alone: boolean;

  constructor(private readonly schedulers: readonly Scheduler[], private readonly stepAll: boolean) {
    this.alone = schedulers.length === 1;
  }

  /** The back-end brought to `now` (an input there steps it first, as it would step alone). */
  at(scheduler: Scheduler, now: number): Scheduler {
    if (!this.alone && scheduler.time < now) {
      // Its changes at `now` are the next step's: kept for it, as the step that makes them is not reported.
      this.early.push(this.step(scheduler, now));
    }
    return scheduler;
  }

  /** The back-end has been given an input: the next step steps it. */
  touch(scheduler: Scheduler): void {
    this.touched.add(scheduler);
    this.named.delete(scheduler);
  }

  /** The back-end at `now`, and stepped again at the next step: it has been given an input. */
  touching(scheduler: Scheduler, now: number): Scheduler {
    this.touch(scheduler);
    return this.at(scheduler, now);
  }

  /**
   * When a back-end is due to step: in a simulation, the instant it named when first asked, as
   * alone it is asked once after each step and stepped at what it names. Asked again it may name a
   * later one (boundaries.ts names an instant whose segments have all moved only once), and the
   * step it would take alone at the first would be lost.
   */
  due(scheduler: Scheduler): number {
    if (this.stepAll || this.alone) return scheduler.nextEventTime();
    let t = this.named.get(scheduler);
    if (t === undefined) this.named.set(scheduler, (t = scheduler.nextEventTime()));
    return t;
  }

  /** The earliest instant a back-end is due at. */
  nextTime(): number {
    let next = Infinity;
    for (const s of this.schedulers) next = Math.min(next, this.due(s));
    return next;
  }

  /** The steps of `now` so far (those that brought a back-end to an input's instant), and each back-end stepped that is due or was given an input. */
  stepAt(now: number): StepResult[] {
    const steps = this.early;
    this.early = [];
    for (const s of this.schedulers) if (this.stepAll || this.touched.has(s) || this.due(s) <= now) steps.push(this.step(s, now));
    this.touched.clear();
    return steps;
  }

  /** One back-end stepped at `now`, which will name its next event afresh. */
  step(scheduler: Scheduler, now: number): StepResult {
    const result = scheduler.advance(now);
    this.named.delete(scheduler);
    return result;
  }
}
