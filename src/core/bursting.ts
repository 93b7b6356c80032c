// Where a lease runs when the site has more than its own pool (backends.ts): the site's policy.
// The pool is preferred while it meets the request's start; otherwise the first other back-end
// that accepts the request takes it (an EC2 region: capacity the site pays for by the second).
// The service and the simulator both choose here, so a trace shows what the service would do.

import { type Plan, planStart } from './plan.ts';

export interface BurstPolicy {
  /**
   * How long a best-effort lease may wait on the pool before it runs elsewhere instead: it stays
   * when nobody waits ahead of it and the pool's earliest room for it is at most this many
   * seconds after its boot could begin. Reservations (exact, immediate, urgent, deadline,
   * periodic) stay when the pool accepts them as asked.
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

/** Whether the pool's plan meets the request's start under the policy. */
export function poolMeetsStart(plan: Plan | null, pool: PoolNow, policy: BurstPolicy): boolean {
  if (!plan?.ok) return false;
  if (plan.placement.kind !== 'queue') return true;
  const start = planStart(plan);
  return pool.queued === 0 && start !== null && start <= pool.now + pool.bootSeconds + policy.afterSeconds;
}

/**
 * The index of the option the policy takes: the pool's (options[0]) when it meets the start,
 * else the first other back-end's that accepts the request, else the pool's (an accepted but
 * late pool plan is taken when no other back-end accepts; a refusal there, with its earliest
 * start and alternatives, is the answer).
 */
export function chooseBackend(options: readonly BackendOption[], pool: PoolNow, policy: BurstPolicy): number {
  if (options.length === 0) throw new RangeError('chooseBackend needs at least the pool\'s option');
  if (poolMeetsStart(options[0].plan, pool, policy)) return 0;
  const other = options.findIndex((o, k) => k > 0 && o.plan?.ok === true);
  return other > 0 ? other : 0;
}
