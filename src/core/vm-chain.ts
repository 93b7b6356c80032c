// A lease's chain of VM reservations, laid out on pieces: each piece boots (or, after a
// suspension, migrates if it moved and resumes), runs, and then shuts down if the work is done
// or suspends to wait for the next piece. One layout for queued leases (one piece, perhaps cut
// short), reservations (one whole piece) and deadline leases (pieces around reservations).

import type { SchedulerConfig } from './config.ts';
import type { CoreState } from './core-state.ts';
import type { LeaseCosts } from './lease-costs.ts';
import type { LeaseRecord } from './lease-record.ts';
import type { ChainLayout, ImageMove, PlannedSegment } from './plan.ts';
import { place } from './reservation-ops.ts';
import type { LeaseRequest } from './types.ts';

/** One stretch on one set of nodes, over [from, end). */
export interface ChainPiece {
  from: number;
  end: number;
  nodes: readonly number[];
  /** The first piece of a fresh lease boots; any other resumes, after a migration if `moved`. */
  first: boolean;
  moved: boolean;
  /**
   * Whether the work ends in this piece (then it shuts down, cut short by `end` if need be) or the
   * piece ends in a suspension. 'if-work-fits': whichever the window allows.
   */
  last: boolean | 'if-work-fits';
  /** For a cluster lease: each role's nodes (by role number); `nodes` then lists them member by member. */
  roleNodes?: ReadonlyArray<readonly number[]>;
}

/** The segments of a lease with `work` run seconds left, over `pieces`. Pure: placing them is placeChain's. */
export function layoutChain(config: SchedulerConfig, costs: LeaseCosts, req: LeaseRequest, work: number, pieces: readonly ChainPiece[]): ChainLayout {
  const segments: PlannedSegment[] = [];
  let remaining = work;
  let endsIn: ChainLayout['endsIn'] = 'finish';
  const suspend = costs.suspendSeconds(req);
  for (const piece of pieces) {
    let t = piece.from;
    const add = (kind: PlannedSegment['kind'], seconds: number): void => {
      if (seconds <= 0) return;
      const byRole = piece.roleNodes;
      if (byRole === undefined) segments.push({ kind, start: t, end: t + seconds, nodes: piece.nodes });
      else for (let role = 0; role < byRole.length; role++) segments.push({ kind, start: t, end: t + seconds, nodes: byRole[role], role });
      t += seconds;
    };
    if (piece.first) add('boot', config.bootSeconds);
    else {
      if (piece.moved) add('migrate', costs.migrateSeconds(req));
      add('resume', costs.resumeSeconds(req));
    }
    // A window that holds the work but not all of its shutdown ends the lease all the same: the
    // VM is powered off where the window ends, rather than "suspended" with nothing left to do.
    if (piece.last === true || (piece.last === 'if-work-fits' && piece.end - suspend - t >= remaining)) {
      add('run', remaining);
      add('shutdown', Math.min(config.shutdownSeconds, piece.end - t));
      endsIn = 'finish';
    } else {
      const run = piece.end - suspend - t;
      add('run', run);
      add('suspend', suspend);
      remaining -= run;
      endsIn = 'suspend';
    }
  }
  return { segments, endsIn };
}

/** Places a laid-out chain as the lease's chain. */
export function placeChain(s: CoreState, lease: LeaseRecord, layout: ChainLayout): void {
  lease.chain = [];
  lease.state = 'scheduled';
  s.changed?.add(lease);
  // Built at its size: pushed into, a one-segment chain would keep room for 17.
  lease.chain = layout.segments.map((seg) => place(s, lease, seg.kind, seg.start, seg.end, seg.nodes, seg.role));
  lease.chainEndsIn = layout.endsIn;
}

/** Sends the lease's image, or takes references to it where it is cached. */
export function moveImage(s: CoreState, lease: LeaseRecord, move: ImageMove | null, now: number): void {
  if (move === null) return;
  if (move.sendAt !== null) s.images.send(lease, move.nodes, move.sendAt, now);
  else s.images.useCached(lease, move.nodes, now);
}
