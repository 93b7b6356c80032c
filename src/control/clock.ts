/** The wall clock the service runs by; tests drive a manual one. Times are epoch seconds. */
export interface Clock {
  now(): number;
  /** Calls fn once, at or after `at`; returns a cancel function. */
  at(at: number, fn: () => void): () => void;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

export const wallClock: Clock = {
  now: () => Math.floor(Date.now() / 1000),
  at(at, fn) {
    const ms = Math.min(MAX_TIMER_MS, Math.max(0, at * 1000 - Date.now()));
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

/** A clock that moves only when told to: for tests. */
export class ManualClock implements Clock {
  private timers: Array<{ at: number; fn: () => void }> = [];
  constructor(private time: number) {}

  now(): number {
    return this.time;
  }

  at(at: number, fn: () => void): () => void {
    const timer = { at, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward, firing the timers that fall due, in time order. */
  advance(seconds: number): void {
    this.time += seconds;
    const due = this.timers.filter((t) => t.at <= this.time).sort((a, b) => a.at - b.at);
    this.timers = this.timers.filter((t) => t.at > this.time);
    for (const t of due) t.fn();
  }
}
