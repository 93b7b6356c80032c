// Whether an owner's or an administrator's action on a lease may go ahead, checked before it is
// logged: an input the scheduler would throw out must never reach the input log (a replay would
// stop on it), and a "no" is answered as a Refusal with a code, not as an exception.

import type { LeaseRecord } from '../core/lease-record.ts';
import type { Scheduler } from '../core/scheduler.ts';
import { refuse, type Refusal } from './refusal.ts';

export type OwnerAction = 'stop' | 'suspend' | 'resume';

const runningRun = (lease: LeaseRecord) => lease.chain.find((s) => s.active && s.kind === 'run');

/**
 * Why the owner cannot stop, suspend or resume the lease now, or null if it can. `status` is
 * what the caller sees the lease as.
 */
export function ownerActionRefusal(lease: LeaseRecord, action: OwnerAction, status: string): Refusal | null {
  const id = lease.req.id;
  // core-refusal: Scheduler.finishEarly, suspendByOwner and resumeByOwner throw RangeError in these cases.
  switch (action) {
    case 'stop':
      return runningRun(lease) ? null : refuse('wrong-state', `lease '${id}' is not running (${status}); cancel it instead`);
    case 'suspend':
      if (lease.req.kind !== 'best-effort') return refuse('policy', `lease '${id}' is ${lease.req.kind}: only a best-effort lease can be suspended by its owner (a reservation keeps its window; cancel it instead)`);
      return runningRun(lease) ? null : refuse('wrong-state', `lease '${id}' is not running (${status}); only a running lease can be suspended`);
    case 'resume':
      return lease.parked ? null : refuse('wrong-state', `lease '${id}' was not suspended by its owner (${status}); there is nothing to resume`);
  }
}

/**
 * Why the running lease cannot move live to `to` (node indexes, named `names`) now, or null if
 * the scheduler is to be asked: the checks of Scheduler.liveMigrationRefusal that have a code of
 * their own. What is left after them is a target without room (see LeaseService.migrate).
 */
export function migrationRefusal(scheduler: Scheduler, lease: LeaseRecord, to: readonly number[], names: readonly string[], now: number, status: string): Refusal | null {
  const id = lease.req.id;
  // core-refusal: each check below is one of Scheduler.liveMigrationRefusal's, which answers text (and migrateLive throws it).
  // The schedule contract keeps a reservation's run in one piece on its nodes; only leases whose runs may be split move.
  if (lease.req.kind !== 'best-effort' && lease.req.kind !== 'deadline') return refuse('policy', `lease '${id}' is ${lease.req.kind}: only best-effort and deadline leases migrate (a reservation keeps its nodes)`);
  const run = runningRun(lease);
  if (!run || run.start > now) return refuse('wrong-state', `lease '${id}' is not running (${status}); only a running lease migrates live`);
  if (run.start === now) return refuse('wrong-state', `lease '${id}' starts running at this very instant: migrate it once it runs`);
  if (to.length !== run.nodes.length) return refuse('invalid-request', `lease '${id}' runs on ${run.nodes.length} node(s): name as many to move to, not ${to.length}`, { path: 'body.nodes' });
  if (new Set(to).size !== to.length) return refuse('invalid-request', 'name each node to move to once', { path: 'body.nodes' });
  for (const [k, n] of to.entries()) {
    if (!scheduler.table.isOpen(n)) return refuse('node-unavailable', `node '${names[k]}' is not open to new work (draining or unavailable): pick another`);
    if (run.nodes.includes(n)) return refuse('invalid-request', `lease '${id}' already runs on node '${names[k]}': name nodes it is not on`, { path: 'body.nodes' });
  }
  return null;
}
