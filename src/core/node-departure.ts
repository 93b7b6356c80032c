// A node that leaves the pool at a known instant: a pilot's node goes back to its batch system when
// the pilot job ends, or earlier when the batch system preempts the pilot. Nothing is planned across
// the departure (the slot table holds the whole node from then on); what was planned across it when
// the departure is set or brought forward makes way as for a reservation, by the departure.

import type { CoreState } from './core-state.ts';
import { failLease } from './lease-lifecycle.ts';
import { breakPromise } from './promise-break.ts';
import { restartQueued } from './pool-membership.ts';
import { hasEnded, type LeaseRecord } from './lease-record.ts';
import { preempt, preemptionKind } from './preemption.ts';
import { type Done, refusal } from './types.ts';

/** What the leases planned across a departure did. */
export interface NodeDeparture {
  /** When the node leaves (the instant asked, or now if that had passed). */
  at: number;
  /** Suspended so that their suspension ends by the departure; they resume elsewhere later. */
  suspended: string[];
  /** Not begun there by then: back in the queue with their work. */
  requeued: string[];
  /** Running, and could not be suspended in time: back in the queue, their work lost. */
  restarted: string[];
  /** Their work done by then: only their shutdown is cut short. */
  finished: string[];
  /** Leases whose terms allow no interruption (reservations, non-preemptible leases that had begun): they fail. */
  failed: string[];
  /** Reservations planned across the departure that had not begun: they hold nothing and wait for their owners to take an offer (renegotiation.ts). */
  renegotiating: string[];
}

/**
 * Node n leaves the pool at `at` (Infinity: it stays after all). Best-effort leases in the way
 * make way as preemptible ones make way for a reservation (preemptionKind), by `at`, a
 * non-preemptible one only if it has not begun (it goes back to the queue); any other lease
 * planned across `at` fails, saying why: a site that puts reservations on nodes that may leave
 * early takes that risk.
 *
 * `promptly`: the node is wanted back now (a batch job waits for it): it takes no new work from
 * now on (until a departure of Infinity), and every best-effort lease there makes way as soon as it can, rather
 * than at the last moment; reservations that end by `at` keep their place.
 */
export function departNode(s: CoreState, n: number, at: number, now: number, promptly = false): Done<NodeDeparture> {
  if (!Number.isInteger(n) || n < 0 || n >= s.table.size) return refusal('not-found', `no node ${n} in a pool of ${s.table.size}`);
  if (Number.isNaN(at) || at === -Infinity) return refusal('invalid', `a departure is an instant, or Infinity for none; got ${at}`);
  const when = Math.max(at, now);
  const out: NodeDeparture = { at: when, suspended: [], requeued: [], restarted: [], finished: [], failed: [], renegotiating: [] };
  const crosses = (id: string): boolean => s.book.mustGet(id).chain.some((seg) => seg.end > when && seg.nodes.includes(n));
  const inTheWay = s.table.leasesOverlapping(n, promptly ? now : when, Infinity).filter((id) => crosses(id) || s.book.mustGet(id).req.kind === 'best-effort');
  s.table.setDeparture(n, when);
  s.mustReevaluate = true;
  const name = s.table.nodes[n].id;
  // Saved memory leaves with the node unless the back-end keeps it in a depot.
  const depot = s.config.suspendedState === 'depot';
  if (!depot) for (const lease of memoryLeavingWith(s, n, when)) {
    if (inTheWay.includes(lease.req.id)) continue;
    restartQueued(s, lease, now);
    out.restarted.push(lease.req.id);
  }
  for (const id of inTheWay) {
    const lease = s.book.mustGet(id);
    if (hasEnded(lease)) continue;
    s.changed?.add(lease);
    // Promptly, a lease is suspended now rather than at the last moment, unless only the later instant allows it.
    const soon = promptly ? Math.min(when, now + s.costs.suspendSeconds(lease.req)) : when;
    const early = preemptionKind(s, lease, soon);
    const by = early === 'requeue' && soon < when && preemptionKind(s, lease, when) === 'suspend' ? when : soon;
    // Wanted back now, a lease that has not begun there goes back to the queue, even one that would be done in time;
    // so does one still fetching its memory there (the copy it fetches from stays where it was until the fetch is done).
    const kind = promptly && !lease.chain.some((seg) => seg.active && seg.kind !== 'migrate') ? 'unschedule' : by === soon ? early : 'suspend';
    const how = kind === 'suspend' && !depot ? 'requeue' : kind;
    const begun = how !== 'unschedule';
    if (lease.req.kind !== 'best-effort' || (!lease.req.preemptible && begun && how !== 'power-off')) {
      const why = `node '${name}' leaves the pool at ${when} (its pilot job ends there), and the lease was planned on it after that; a ${lease.req.preemptible ? '' : 'non-preemptible '}${lease.req.kind} lease cannot be moved off it`;
      // One that has not begun loses nothing by being offered another place now; one running keeps what it was promised up to then no better.
      const idle = !lease.chain.some((seg) => seg.active);
      if (idle && breakPromise(s, lease, now, 'node-unavailable', why)) out.renegotiating.push(id);
      else {
        failLease(s, lease, now, 'node-unavailable', why);
        out.failed.push(id);
      }
      continue;
    }
    preempt(s, lease, how, by, now);
    const list = how === 'suspend' ? out.suspended : how === 'unschedule' ? out.requeued : how === 'requeue' ? out.restarted : out.finished;
    list.push(id);
  }
  // Wanted back now: no new work there, until it stays after all.
  if (promptly) {
    s.leaving.add(n);
    s.table.close(n);
  }
  if (at === Infinity && s.leaving.delete(n) && !s.drained.has(n) && !s.lost.has(n)) s.table.open(n);
  return { ok: true, ...out };
}

/** Suspended leases whose memory is on node n and that will not have left it by `at`. */
function memoryLeavingWith(s: CoreState, n: number, at: number): LeaseRecord[] {
  return s.book.all().filter((l) => !hasEnded(l) && l.state === 'suspended' && (l.suspendedOn ?? []).includes(n) && !(l.chain.length > 0 && l.chain[0].start < at));
}
