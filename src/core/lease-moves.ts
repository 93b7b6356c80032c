// One back-end's side of moving a lease between the back-ends of a site (backend-moves.ts has the
// site's side): what it can offer a lease whose promise another back-end broke, the plan for
// placing it here, and placing it. A lease moves only while it renegotiates, holding nothing, so
// it arrives as it would be placed again on its own back-end: planned as an offer taken there is.

import { bandwidthOf } from './bandwidth.ts';
import { applyChange } from './change-apply.ts';
import type { AcceptedChange, ChangeAlternative, ChangePlan, LeaseChange } from './change-plan.ts';
import type { CoreState } from './core-state.ts';
import { planArrival } from './lease-change.ts';
import { type LeaseRecord, newLeaseRecord } from './lease-record.ts';
import { sameLeaseLater } from './promise-break.ts';
import { lapseUntaken } from './renegotiation.ts';
import type { Policies } from './request-planner.ts';
import type { LeaseRequest } from './types.ts';

export class LeaseMoves {
  constructor(private readonly s: CoreState, private readonly policies: Policies) {}

  /**
   * What this back-end (named `backend`) offers a lease renegotiating elsewhere: the same lease
   * here at the earliest start it fits (a deadline lease: by its own terms), or null.
   */
  offer(req: LeaseRequest, backend: string): ChangeAlternative | null {
    const here: LeaseRequest = { ...req, backend };
    if (here.nodes > this.s.nodesThatFit(here.perNode.cpu, here.perNode.memoryMiB, bandwidthOf(here.perNode))) return null;
    const later = sameLeaseLater(this.s, here, this.s.now);
    return later && { ...later, kind: 'other-backend', change: { backend, ...later.change } };
  }

  /** The plan for placing here `from` (a lease renegotiating on another back-end) as `change` (which names this one) asks. */
  plan(from: LeaseRecord, change: LeaseChange, maxAlternatives: number): ChangePlan {
    return planArrival(this.s, arriving(from, change), change, this.policies, maxAlternatives);
  }

  /**
   * Places the lease as planned here (a plan current at this instant and version): its record
   * here takes over the attempts it ran elsewhere, so the schedule export still shows them.
   */
  arrive(from: LeaseRecord, plan: AcceptedChange): void {
    const s = this.s;
    if (plan.at !== s.now || plan.version !== s.version) throw new Error(`internal: the move of lease '${plan.leaseId}' was planned at ${plan.at} (version ${plan.version}), applied at ${s.now} (version ${s.version})`);
    const lease = s.book.add(arriving(from, plan.change).req, from.work);
    lease.state = 'renegotiating';
    lease.lost = from.lost;
    lease.failure = from.failure;
    lease.preemptions = from.preemptions;
    applyChange(s, plan);
  }

  /** The leases whose promise broke here since last asked (each has this back-end's own offers). */
  takeBroken(): LeaseRecord[] {
    return this.take('broken');
  }

  /** The leases whose owners took no offer in time and none of whose own back-end's offers fits. */
  takeLapsed(): LeaseRecord[] {
    return this.take('lapsed');
  }

  /** The list's leases still renegotiating, the list emptied. */
  private take(list: 'broken' | 'lapsed'): LeaseRecord[] {
    const m = this.s.moves;
    if (!m || m[list].length === 0) return [];
    const still = m[list].filter((l) => l.state === 'renegotiating');
    m[list] = [];
    return still;
  }

  /** A lapsed lease none of whose offers (its own back-end's, then the others') fits any more: it fails, saying so. */
  lapse(lease: LeaseRecord): void {
    lapseUntaken(this.s, lease, this.s.now, true);
  }
}

/** The lease as it would be here: its request naming this back-end, renegotiating and holding nothing. */
function arriving(from: LeaseRecord, change: LeaseChange): LeaseRecord {
  const lease = newLeaseRecord({ ...from.req, backend: change.backend }, -1, from.work);
  lease.state = 'renegotiating';
  return lease;
}
