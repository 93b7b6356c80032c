// Where a lease runs when the site has more than its own pool (backends.ts): the site's policy.
// The pool is preferred while it meets the request's start; otherwise the first other back-end
// that accepts the request takes it (an EC2 region: capacity the site pays for by the second).
// The service and the simulator both choose here, so a trace shows what the service would do.

import { type Plan, planStart } from './plan.ts';

export interface BurstPolicy {
  /**
   * How long a best-effort lease may wait on the pool before it runs elsewhere instead. One the
   * pool starts at once (nobody waits ahead of it, and there is room as its boot could begin)
   * stays. Any other: with 0, it runs elsewhere from the start; otherwise it waits on the pool and,
   * if it has still not begun this many seconds after it arrived, moves to the other back-end
   * (backends.ts). Reservations (exact, immediate, urgent, deadline, periodic) stay when the pool
   * accepts them as asked.
   */
  afterSeconds: number;
}

export const DEFAULT_BURST_POLICY: BurstPolicy = { afterSeconds: 0 };

/** A back-end's plan for one request, the site's own pool's first; null where it may not run there at all. */
export interface BackendOption {
  backend: string;
  plan: Plan | null;
}

export interface PoolNow {
  now: number;
  /** Best-effort leases waiting in the pool's queue. */
  queued: number;
  /** The pool's boot time, included in a queued estimate's start. */
  bootSeconds: number;
}

/** Whether the pool's plan meets the request's start: a reservation accepted as asked, a best-effort lease started at once. */
export function poolMeetsStart(plan: Plan | null, pool: PoolNow): boolean {
  if (!plan?.ok) return false;
  if (plan.placement.kind !== 'queue') return true;
  const start = planStart(plan);
  return pool.queued === 0 && start !== null && start <= pool.now + pool.bootSeconds;
}

export interface BackendChoice {
  /** Index into the options. */
  chosen: number;
  /** A best-effort lease left waiting on the pool: where it goes if it has not begun by `at`. */
  later?: { backend: string; at: number };
}

/**
 * What the policy takes: the pool's option (options[0]) when it meets the start; else, for a
 * best-effort lease with an allowance, the pool's with a move `later` to the first other back-end
 * that accepts it; else that back-end's at once; else the pool's (an accepted but late pool plan
 * is taken when no other back-end accepts; a refusal there, with its earliest start and
 * alternatives, is the answer).
 */
export function chooseBackend(options: readonly BackendOption[], pool: PoolNow, policy: BurstPolicy): BackendChoice {
  if (options.length === 0) throw new RangeError('chooseBackend needs at least the pool\'s option');
  const onPool = options[0].plan;
  if (poolMeetsStart(onPool, pool)) return { chosen: 0 };
  const other = options.findIndex((o, k) => k > 0 && o.plan?.ok === true);
  if (other < 0) return { chosen: 0 };
  const waits = onPool?.ok === true && onPool.placement.kind === 'queue' && policy.afterSeconds > 0;
  return waits ? { chosen: 0, later: { backend: options[other].backend, at: pool.now + policy.afterSeconds } } : { chosen: other };
}
