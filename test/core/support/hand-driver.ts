// A scheduler fed a scenario's requests as they arrive, driven by hand to any instant: for tests
// that act on leases (owner actions, lost nodes, changes) between the scheduler's own events.

import { Scheduler } from '../../../src/core/scheduler.ts';
import type { LeaseRequest } from '../../../src/core/types.ts';
import type { Scenario } from './generators.ts';

/** A scheduler fed its requests as they arrive, driven by hand to any instant. */
export class Driver {
  readonly scheduler: Scheduler;
  private next = 0;
  private readonly requests: LeaseRequest[];

  constructor(s: Scenario) {
    this.scheduler = new Scheduler(s.nodes, s.config);
    this.requests = [...s.requests].sort((a, b) => a.arrival - b.arrival);
  }

  /** Every arrival and event up to `t`, then `t` itself. */
  runTo(t: number): void {
    const s = this.scheduler;
    for (;;) {
      const e = Math.min(this.next < this.requests.length ? this.requests[this.next].arrival : Infinity, s.nextEventTime());
      if (e > t || e === Infinity) break;
      this.step(e);
    }
    if (t > s.time) this.step(t);
  }

  step(t: number): void {
    while (this.next < this.requests.length && this.requests[this.next].arrival <= t) this.scheduler.submit(this.requests[this.next++], t);
    this.scheduler.advance(t);
  }

  runUntilIdle(): void {
    this.runTo(this.requests.length > 0 ? this.requests[this.requests.length - 1].arrival : 0);
    for (let t = this.scheduler.nextEventTime(); t !== Infinity; t = this.scheduler.nextEventTime()) this.scheduler.advance(t);
  }
}
