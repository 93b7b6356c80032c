// The front of a pool split into cells: routes each arriving lease to one cell. Its main policy
// asks every cell that could hold the lease for a quote (Scheduler.plan, which changes nothing)
// and takes the earliest start, a best-effort lease's pushed back by the queue ahead of it;
// earliest-quote takes the scheduler's estimate alone. Two simpler policies, round-robin and
// least-loaded, ask nothing, and are there to set the quotes' worth against.

import type { LeaseRecord } from '../core/lease-record.ts';
import { type Plan, planStart } from '../core/plan.ts';
import type { Scheduler } from '../core/scheduler.ts';
import type { LeaseRequest, NodeSpec } from '../core/types.ts';
import type { FrontPolicy } from './cells.ts';

export interface Cell {
  /** Position in cell order (0-based): the last tie-break. */
  index: number;
  nodes: readonly NodeSpec[];
  scheduler: Scheduler;
  /** Leases routed here that were not yet seen finished. */
  live: LeaseRecord[];
}

export interface Routing {
  cell: Cell;
  /** The plan the cell quoted, handed to submit so the cell applies what it quoted. */
  plan?: Plan;
}

const FINISHED = new Set(['completed', 'rejected', 'cancelled', 'expanded']);

/**
 * The cell's backlog in seconds: the node-seconds of requested work its unfinished leases have
 * not yet done, over its nodes; how long the whole cell would be busy with what it holds.
 * Occurrences of a periodic lease, which the cell's scheduler makes, are not counted.
 */
export function cellLoad(cell: Cell): number {
  cell.live = cell.live.filter((l) => !FINISHED.has(l.state));
  let nodeSeconds = 0;
  for (const l of cell.live) nodeSeconds += l.req.nodes * Math.max(0, l.req.duration - l.done);
  return nodeSeconds / cell.nodes.length;
}

/**
 * When a cell's quote says the lease would start: an accepted reservation's start; for a
 * best-effort lease, the estimate the scheduler gives with a queued plan. That estimate is the
 * earliest window of the cell's slot table with room for the lease's whole chain: it counts every
 * reservation there (running leases to their requested end, advance reservations, and under EASY
 * the queue head's backfill reservation), but not the leases queued behind the head, which go
 * first. A start of now is right as it stands: the cell has just decided its queue at this
 * instant, so nothing queued could take that room, or it would have. A later start is optimistic
 * by the queue ahead, and (`withQueue`) we push it back by that queue's remaining node-seconds
 * spread over the cell's nodes: without it, a cell with a long queue and a hole in its table
 * quotes as well as an idle one, and the front piles leases onto it (docs/scaling.md has both).
 * A refused plan counts by its earliest feasible start (Infinity if none), after every accepting cell.
 */
function quotedStart(plan: Plan, cell: Cell, now: number, withQueue: boolean): { refused: number; start: number } {
  if (!plan.ok) return { refused: 1, start: plan.earliestStart ?? Infinity };
  const start = planStart(plan) ?? Infinity;
  // The estimate's start is when the lease's VMs have booted: room now means a start at now + boot.
  if (!withQueue || plan.placement.kind !== 'queue' || start <= now + cell.scheduler.config.bootSeconds) return { refused: 0, start };
  return { refused: 0, start: start + queuedBacklog(cell) };
}

/** The node-seconds of requested work still to do of the cell's waiting leases (queued, or suspended to resume), over its nodes. */
function queuedBacklog(cell: Cell): number {
  let nodeSeconds = 0;
  for (const l of cell.live) if (l.state === 'queued' || l.state === 'suspended') nodeSeconds += l.req.nodes * Math.max(0, l.req.duration - l.done);
  return nodeSeconds / cell.nodes.length;
}

export class Front {
  private turn = 0;

  constructor(readonly policy: FrontPolicy) {}

  /** The cell for `req` among `candidates` (in cell order, each able to hold it), every one at `now`. */
  route(candidates: readonly Cell[], req: LeaseRequest, now: number): Routing {
    if (candidates.length === 1) return { cell: candidates[0] };
    switch (this.policy) {
      case 'round-robin': {
        // The first candidate at or after the turn, cyclically: a cell too small for this lease keeps its turn for the next.
        const cell = candidates.find((c) => c.index >= this.turn) ?? candidates[0];
        this.turn = cell.index + 1;
        return { cell };
      }
      case 'least-loaded':
        return { cell: leastLoaded(candidates) };
      case 'earliest-start':
      case 'earliest-quote':
        return earliestStart(candidates, req, now, this.policy === 'earliest-start');
    }
  }
}

function leastLoaded(candidates: readonly Cell[]): Cell {
  let best = candidates[0];
  let bestLoad = cellLoad(best);
  for (const c of candidates.slice(1)) {
    const load = cellLoad(c);
    if (load < bestLoad) [best, bestLoad] = [c, load];
  }
  return best;
}

/**
 * Earliest quoted start; ties to the least loaded cell, then to cell order. Deterministic: no clock,
 * no randomness. Cells are asked in that tie order, so a best-effort lease quoted room now (the
 * earliest any cell can give it) needs no further quotes: on the whole SDSC log the estimates
 * (the slot table's window search) were half the run.
 */
function earliestStart(candidates: readonly Cell[], req: LeaseRequest, now: number, withQueue: boolean): Routing {
  const byLoad = candidates.map((cell) => ({ cell, load: cellLoad(cell) })).sort((a, b) => a.load - b.load || a.cell.index - b.cell.index);
  let best: { cell: Cell; plan: Plan; refused: number; start: number } | null = null;
  for (const { cell } of byLoad) {
    const plan = cell.scheduler.plan(req, now, 0);
    const { refused, start } = quotedStart(plan, cell, now, withQueue);
    if (!best || refused < best.refused || (refused === best.refused && start < best.start)) best = { cell, plan, refused, start };
    if (req.kind === 'best-effort' && refused === 0 && start <= now + cell.scheduler.config.bootSeconds) break;
  }
  return { cell: best!.cell, plan: best!.plan };
}
