// The pool as the API and the drivers whose nodes join by themselves see it: nodes added, drained,
// removed, lost and back, leaving at a set instant (a pilot's node), the costs measured on them,
// and what is known of each node. The inputs themselves are in pool-inputs.ts.

import type { Drained } from '../core/pool-membership.ts';
import type { CostFigures } from '../core/cost-figures.ts';
import type { NodeDeparture } from '../core/node-departure.ts';
import type { NodeLoss } from '../core/node-loss.ts';
import { DEPARTURE } from '../core/segment.ts';
import type { NodeSpec } from '../core/types.ts';
import type { NodeEstimate } from '../drivers/driver.ts';
import type { PoolControl, WaitingLease } from '../drivers/pool-control.ts';
import type { LeaseRecord } from '../core/lease-record.ts';
import type { NodeRow } from '../store/store.ts';
import type { ControlLoop } from './control-loop.ts';
import * as pool from './pool-inputs.ts';
import type { Result } from './refusal.ts';

export class PoolService implements PoolControl {
  private estimates: ((node: string) => NodeEstimate | null) | null = null;

  constructor(private readonly loop: ControlLoop) {}

  /** Has every lease's VMs converged again, or those of one node: after its agent came back, say. */
  reconcileNow(node?: string): Promise<void> {
    return this.loop.reconcileNow(node);
  }

  /** `pilot`: the batch job whose pilot brought the node. */
  addNode(spec: NodeSpec, backend?: string, pilot?: string): Promise<Result<NodeRow>> {
    return pool.addNode(this.loop, spec, backend, pilot);
  }

  /** Drains a node: no new leases there. Answers the leases that still plan to come to it. */
  /** `evacuate`: the reservations planned there that have not begun move to other nodes, or renegotiate. */
  drainNode(id: string, evacuate = false): Promise<Result<Drained>> {
    return pool.drainNode(this.loop, id, evacuate);
  }

  /** Removes a drained node once nothing runs or is planned there. */
  removeNode(id: string): Promise<Result<void>> {
    return pool.removeNode(this.loop, id);
  }

  /** The node leaves the pool at `at` (null: it stays after all), `promptly` if it is wanted back now; what became of the leases planned across it. */
  setNodeDeparture(id: string, at: number | null, promptly = false): Promise<Result<NodeDeparture>> {
    return pool.setNodeDeparture(this.loop, id, at, promptly);
  }

  /** The node's agent has stayed away (pool-inputs.ts says what follows); null when nothing was logged. */
  markNodeUnavailable(id: string): Promise<NodeLoss | null> {
    return pool.markNodeUnavailable(this.loop, id);
  }

  /** The node's agent is back; false if it was not unavailable. */
  markNodeAvailable(id: string): Promise<boolean> {
    return pool.markNodeAvailable(this.loop, id);
  }

  /** Has the scheduler plan with figures measured on the pool from now on (see Scheduler.setCosts). */
  setMeasuredCosts(given: CostFigures): Promise<Result<void>> {
    return pool.setMeasuredCosts(this.loop, given);
  }

  nodeIsIdle(id: string): boolean {
    const n = this.loop.nodes.of(id);
    return n !== undefined && this.loop.scheduler.nodeIsIdle(n);
  }

  waitingLeases(soonSeconds: number, backend?: string): WaitingLease[] {
    const scheduler = backend === undefined ? this.loop.scheduler.primary : this.loop.scheduler.scheduler(backend);
    if (!scheduler) return [];
    const soon = this.loop.clock.now() + soonSeconds;
    const waits = (l: LeaseRecord): boolean => (l.state === 'queued' || l.state === 'suspended' || (l.state === 'scheduled' && l.inFuture)) && !l.parked && (l.chain.length === 0 || l.chain[0].start > soon);
    return scheduler.allLeases().filter(waits).map((l) => ({ id: l.req.id, nodes: l.req.nodes, perNode: l.req.perNode }));
  }

  /** Leases holding or planning reservations on a node. */
  leasesOnNode(id: string): string[] {
    const n = this.loop.nodes.of(id);
    return n === undefined ? [] : [...new Set(this.loop.scheduler.reservationsOn(n).filter((s) => s.leaseId !== DEPARTURE).map((s) => s.leaseId))];
  }

  /** For each node, the fraction of its CPU held by leases now. */
  nodeUtilization(): Array<[string, number]> {
    const { scheduler } = this.loop;
    return this.loop.nodes.ids.map((id, n) => [id, scheduler.reservationsOn(n).filter((s) => s.active).reduce((sum, s) => sum + s.cpu, 0) / scheduler.nodes[n].cpu]);
  }

  /** Where measured operation times per node come from, when the nodes run agents. */
  useNodeEstimates(of: (node: string) => NodeEstimate | null): void {
    this.estimates = of;
  }

  /** A node's measured operation times: null if none yet, undefined if the pool does not measure. */
  nodeEstimates(node: string): NodeEstimate | null | undefined {
    return this.estimates ? this.estimates(node) : undefined;
  }
}
