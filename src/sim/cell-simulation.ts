// Drives a pool split into cells on one simulated clock: every cell a Scheduler of its own (the
// core's, unchanged) with its own nodes, a front routing each arriving request to one of them.

import { Scheduler } from '../core/scheduler.ts';
import type { Done, LeaseRequest, NodeSpec } from '../core/types.ts';
import type { LeaseRecord } from '../core/lease-record.ts';
import type { Segment } from '../core/segment.ts';
import { type CellsSpec, cellHolds, splitNodes } from './cells.ts';
import { type Cell, Front } from './cell-front.ts';
import { EarlyEnds, mustEndEarly } from './early-ends.ts';
import { realWorkOf } from './real-work.ts';
import type { SimulationInput } from './simulator.ts';
import { refusedByTerms } from './terms-admission.ts';
import { WorkloadChanges } from './workload-changes.ts';

export interface CellsRun {
  cells: Cell[];
  /** Leases no cell was large enough for: refused by the front (kept, rejected, in the largest cell). */
  tooLarge: number;
  /** How many leases the front sent to each cell (not counting those the terms refused or no cell could hold). */
  routed: number[];
}

function mustDo(r: Done): void {
  if (!r.ok) throw new RangeError(r.message);
}

interface CellClock {
  cell: Cell;
  earlyEnds: EarlyEnds;
  /** The changes its leases' owners ask for (a lease's are made in the cell it was routed to). */
  changes: WorkloadChanges;
  /** The instant the cell was last advanced to, to advance it once more only when something changed since. */
  advancedAt: number;
  /** A lease of it ended early since it was last advanced. */
  changed: boolean;
}

/**
 * Runs `input` on cells of `spec.sizes` nodes. With one cell, each instant goes exactly as
 * simulate()'s one pool does (early ends, arrivals, one advance), so one cell gives the one-pool
 * result byte for byte. With several, each cell is first brought to the arrival's instant (its
 * segments that start or end then applied, its queue decided), so that a quote sees the cell as
 * it is; and a routed lease is decided at once, so the next arrival of that instant sees it too.
 */
export function simulateCells(input: SimulationInput & { nodes: readonly NodeSpec[] }, spec: CellsSpec): CellsRun {
  const { config } = input;
  const requests = [...input.requests].sort((a, b) => a.arrival - b.arrival);
  const clocks: CellClock[] = splitNodes(input.nodes, spec.sizes).map((nodes, index) => ({
    cell: { index, nodes, scheduler: new Scheduler(nodes, config), live: [] }, earlyEnds: new EarlyEnds(), changes: new WorkloadChanges(() => config.runtimeOverheadPercent), advancedAt: -Infinity, changed: false,
  }));
  const cells = clocks.map((c) => c.cell);
  const largest = cells.reduce((a, b) => (b.nodes.length > a.nodes.length ? b : a));
  const front = new Front(spec.front);
  const run: CellsRun = { cells, tooLarge: 0, routed: cells.map(() => 0) };
  const workOf = (lease: LeaseRecord): number => realWorkOf(lease.req, config);
  // Runs that began, or that a change made longer or shorter, end early when their real work is done (as in simulate()).
  const expectEnds = (c: CellClock, runs: readonly Segment[], changedAt?: number): void => c.earlyEnds.expectRuns(runs, c.cell.scheduler, workOf, changedAt);
  const advance = (c: CellClock, now: number): void => {
    c.advancedAt = now;
    c.changed = false;
    expectEnds(c, c.cell.scheduler.advance(now).started);
  };
  const submitTo = (c: CellClock, req: LeaseRequest, now: number, plan?: Parameters<Scheduler['submit']>[2]): void => {
    mustDo(c.cell.scheduler.submit(req, now, plan));
    c.changes.heard(req);
    run.routed[c.cell.index]++;
    c.cell.live.push(c.cell.scheduler.lease(req.id)!);
  };
  const route = (req: LeaseRequest, now: number): void => {
    if (clocks.length > 1) for (const c of clocks) if (c.advancedAt !== now) advance(c, now);
    // What the terms refuse is kept in the first cell, as one pool keeps it (submitUnder).
    const refused = refusedByTerms(req, now, input.terms);
    // Its changes are asked all the same, and refused, where the lease is kept (as by one pool).
    if (refused) {
      clocks[0].changes.heard(req);
      return mustDo(cells[0].scheduler.refuse(req, now, 'policy', refused));
    }
    if (clocks.length === 1) return submitTo(clocks[0], req, now);
    const candidates = cells.filter((c) => cellHolds(c.nodes, req));
    if (candidates.length === 0) {
      run.tooLarge++;
      const why = `asks for ${req.nodes} nodes of ${req.perNode.cpu} CPU and ${req.perNode.memoryMiB} MiB; the pool is split into cells of ${spec.sizes.join(', ')} nodes and no cell has that many: fewer nodes, or larger cells`;
      clocks[largest.index].changes.heard(req);
      return mustDo(largest.scheduler.refuse(req, now, 'exceeds-pool', why));
    }
    const { cell, plan } = front.route(candidates, req, now);
    submitTo(clocks[cell.index], req, now, plan);
    advance(clocks[cell.index], now);
  };
  let next = 0;
  let lastReport = 0;
  for (;;) {
    const arrival = next < requests.length ? requests[next].arrival : Infinity;
    let now = arrival;
    for (const c of clocks) now = Math.min(now, c.cell.scheduler.nextEventTime(), c.earlyEnds.nextTime(), c.changes.nextTime());
    if (input.until !== undefined && now > input.until) {
      for (const c of clocks) if (c.cell.scheduler.time < input.until) c.cell.scheduler.advance(input.until);
      break;
    }
    if (now === Infinity) break;
    for (const c of clocks) {
      for (let r = c.earlyEnds.takeNext(now); r !== undefined; r = c.earlyEnds.takeNext(now)) {
        const lease = c.cell.scheduler.lease(r.leaseId)!;
        if (mustEndEarly(lease, r, now, workOf(lease))) {
          mustDo(c.cell.scheduler.finishEarly(r.leaseId, now));
          c.advancedAt = -Infinity;
          c.changed = true;
        }
      }
    }
    while (next < requests.length && requests[next].arrival === now) route(requests[next++], now);
    // One pool steps at every instant, as simulate() does. A cell skips the instants where nothing
    // of its own is due (a step then changes nothing, and costs a pass over its queue).
    for (const c of clocks) {
      if (clocks.length === 1 || (c.advancedAt !== now && (c.changed || c.cell.scheduler.nextEventTime() <= now))) advance(c, now);
      if (c.changes.nextTime() !== now) continue;
      if (c.advancedAt !== now) advance(c, now);
      // As one pool makes them (simulate()): then the runs they lengthened or shortened are expected anew.
      expectEnds(c, c.changes.makeDue(c.cell.scheduler, now, input.onChange), now);
      advance(c, now);
    }
    if (input.onProgress && next - lastReport >= 1000) {
      lastReport = next;
      input.onProgress(next / requests.length);
    }
  }
  input.onProgress?.(1);
  return run;
}

