// A preemptible lease is told when a reservation that will preempt it is made: an event on its
// stream saying by whom, when and how (suspended, requeued, ...), as EC2 warns a Spot instance
// before reclaiming it. The site's terms set how far ahead that is at least (preemption.noticeSeconds).
// Written only as the input is first heard: a replay does not tell anyone again.

import type { EventRow } from '../store/store.ts';
import { type Applied, type Ownership, ownershipOf } from './inputs.ts';

/** What telling takes of the control loop: who owns each lease, and its event stream. */
interface Teller {
  owners: ReadonlyMap<string, Ownership>;
  event(e: Omit<EventRow, 'id'>): Promise<void>;
}

export async function announcePreemptions(loop: Teller, applied: Applied, now: number): Promise<void> {
  const decisions = [...(applied.decision ? [applied.decision] : []), ...applied.step.decisions.filter((d) => d !== applied.decision)];
  for (const d of decisions) {
    if (!d.ok || !d.preempted || d.preempted.length === 0) continue;
    for (const p of d.preempted) {
      const own = ownershipOf(loop.owners, p.leaseId);
      await loop.event({ time: now, type: 'lease.preemption-notice', leaseId: p.leaseId, owner: own?.owner ?? null, group: own?.group ?? null, data: { by: d.leaseId, at: d.start ?? now, how: p.how } });
    }
  }
}
