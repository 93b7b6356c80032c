// The inputs that change the pool rather than a lease: nodes added, drained, removed, lost and
// back, and the operation costs measured on them. Each runs in the control loop's exclusive
// section and answers an expected "no" as a Refusal.

import type { Drained } from '../core/pool-membership.ts';
import { COST_FIGURE_KEYS, type CostFigures, costFiguresProblem } from '../core/cost-figures.ts';
import type { NodeLoss } from '../core/node-loss.ts';
import type { NodeDeparture } from '../core/node-departure.ts';
import type { NodeSpec } from '../core/types.ts';
import type { NodeRow } from '../store/store.ts';
import type { ControlLoop } from './control-loop.ts';
import { done, refuse, type Result } from './refusal.ts';
import { costsProblem, nodeProblem } from './storable.ts';

/** `backend`: the back-end the node belongs to (a cloud's region); absent, the site's own pool. */
export function addNode(loop: ControlLoop, spec: NodeSpec, backend?: string, pilot?: string): Promise<Result<NodeRow>> {
  return loop.exclusive(async () => {
    const unstorable = nodeProblem(spec);
    if (unstorable) return unstorable;
    // The core throws on a back-end it does not have: checked before the input is logged.
    const missing = backend === undefined ? null : loop.scheduler.missing(backend);
    if (missing) return refuse('invalid-request', missing);
    const existing = await loop.store.getNode(spec.id);
    if (existing?.status === 'removed') return refuse('already-exists', `node '${spec.id}' was removed; node ids are not reused: give it a new id`);
    if (existing || loop.nodes.of(spec.id) !== undefined) return refuse('already-exists', `node '${spec.id}' is already in the pool (${existing?.status ?? 'active'})`);
    const now = await loop.syncTo(loop.clock.now());
    await loop.record({ type: 'node-add', node: spec, ...(backend !== undefined && backend !== loop.backends[0].name ? { backend } : {}) }, now);
    const row: NodeRow = { id: spec.id, cpu: spec.cpu, memoryMiB: spec.memoryMiB, diskMiB: spec.diskMiB, bandwidthMbps: spec.bandwidthMbps ?? null, status: 'active', addedAt: now, departsAt: null, pilot: pilot ?? null };
    await loop.store.putNode(row);
    await loop.event({ time: now, type: 'node.added', leaseId: null, owner: null, group: null, data: row });
    await loop.flush();
    return done(row);
  });
}

/** Drains a node: no new leases there (`evacuate`: the reservations planned there move elsewhere, or renegotiate). Answers what became of the leases planned to come to it. */
export function drainNode(loop: ControlLoop, id: string, evacuate = false): Promise<Result<Drained>> {
  return loop.exclusive(async () => {
    // Checked before logging: the core refuses a node it does not have (not-found). An id the pool never had is not looked up in the store.
    const n = loop.nodes.of(id);
    const row = n === undefined ? null : await loop.store.getNode(id);
    if (!row || row.status === 'removed' || n === undefined) return refuse('not-found', `no node '${id}' in the pool`);
    const now = await loop.syncTo(loop.clock.now());
    const drained = loop.scheduler.nodeIsDrained(n);
    const applied = drained && !evacuate ? { drained: { requeued: [], stillPlanned: [], moved: [], renegotiating: [] }, leases: [] } : await loop.record({ type: 'node-drain', id, ...(evacuate ? { evacuate: true as const } : {}) }, now);
    // An unavailable node shows that first; it comes back as draining.
    if (row.status !== 'unavailable') await loop.store.putNode({ ...row, status: 'draining' });
    await loop.event({ time: now, type: 'node.draining', leaseId: null, owner: null, group: null, data: { id, ...applied.drained } });
    await loop.flush();
    return done(applied.drained!);
  });
}

/** Removes a drained node once nothing runs or is planned there. */
export function removeNode(loop: ControlLoop, id: string): Promise<Result<void>> {
  return loop.exclusive(async () => {
    const n = loop.nodes.of(id);
    const row = n === undefined ? null : await loop.store.getNode(id);
    if (!row || n === undefined || row.status === 'removed') return refuse('not-found', `no node '${id}' in the pool`);
    if (!loop.scheduler.nodeIsDrained(n)) return refuse('wrong-state', `node '${id}' is ${row.status}: drain it first`);
    await loop.syncTo(loop.clock.now());
    if (!loop.scheduler.nodeIsIdle(n)) return refuse('node-busy', `node '${id}' still holds leases: wait until they end, or cancel them`);
    await loop.store.putNode({ ...row, status: 'removed' });
    await loop.event({ time: loop.clock.now(), type: 'node.removed', leaseId: null, owner: null, group: null, data: { id } });
    return done(undefined);
  });
}

/**
 * The node's agent has stayed away: the node takes nothing new, its VMs are written off, and its
 * leases are dealt with by policy (core/node-loss.ts). What became of each is in the
 * node.unavailable event; the owners of the best-effort leases sent back to the queue get a
 * lease.requeued event (a failed reservation's get its lease.status event, with the reason).
 * Null when nothing was logged: the node is already unavailable, or not in the pool.
 */
export function markNodeUnavailable(loop: ControlLoop, id: string): Promise<NodeLoss | null> {
  return loop.exclusive(async () => {
    const row = await loop.store.getNode(id);
    // The core refuses a node it does not have (not-found); a logged input must never be refused.
    if (!row || row.status === 'removed' || loop.nodes.of(id) === undefined) return null;
    if (row.status === 'unavailable') return null;
    const now = await loop.syncTo(loop.clock.now());
    const loss = (await loop.record({ type: 'node-unavailable', id }, now)).loss!;
    await loop.store.putNode({ ...row, status: 'unavailable' });
    await loop.event({ time: now, type: 'node.unavailable', leaseId: null, owner: null, group: null, data: { id, was: row.status, ...loss } });
    for (const leaseId of [...loss.restarted, ...loss.requeued]) {
      const own = loop.owners.get(leaseId);
      const workLost = loss.restarted.includes(leaseId);
      const message = workLost
        ? `node '${id}' became unavailable with the lease's VMs on it: the lease is back in the queue and starts again from the beginning on other nodes`
        : `node '${id}', where the lease was to run, became unavailable: the lease is back in the queue`;
      await loop.event({ time: now, type: 'lease.requeued', leaseId, owner: own?.owner ?? null, group: own?.group ?? null, data: { node: id, workLost, message } });
    }
    loop.writeOffOnCommit(id);
    await loop.flush();
    return loss;
  });
}

/**
 * The node's agent is back: the node takes new work again (or, if it was drained meanwhile,
 * drains). False if it was not unavailable.
 */
export function markNodeAvailable(loop: ControlLoop, id: string): Promise<boolean> {
  return loop.exclusive(async () => {
    const row = await loop.store.getNode(id);
    const n = loop.nodes.of(id);
    if (!row || row.status !== 'unavailable' || n === undefined) return false;
    const now = await loop.syncTo(loop.clock.now());
    await loop.record({ type: 'node-available', id }, now);
    const status = loop.scheduler.nodeIsDrained(n) ? 'draining' : 'active';
    await loop.store.putNode({ ...row, status });
    await loop.event({ time: now, type: 'node.available', leaseId: null, owner: null, group: null, data: { id, status } });
    await loop.flush();
    return true;
  });
}

/**
 * The node leaves the pool at `at` (epoch seconds; null: it stays after all): a pilot's node when
 * its batch job ends, or sooner when the batch system preempts the pilot. The leases planned there
 * across it make way (core/node-departure.ts); their owners hear how in a lease.departure event.
 */
export function setNodeDeparture(loop: ControlLoop, id: string, at: number | null, promptly = false): Promise<Result<NodeDeparture>> {
  return loop.exclusive(async () => {
    if (at !== null && !(Number.isSafeInteger(at) && at >= 0)) return refuse('invalid-request', `a departure is a whole number of epoch seconds, or null for none; got ${at}`);
    const n = loop.nodes.of(id);
    const row = n === undefined ? null : await loop.store.getNode(id);
    if (!row || row.status === 'removed' || n === undefined) return refuse('not-found', `no node '${id}' in the pool`);
    const now = await loop.syncTo(loop.clock.now());
    const departure = (await loop.record({ type: 'node-departs', id, at, ...(promptly ? { promptly } : {}) }, now)).departure!;
    await loop.store.putNode({ ...row, departsAt: at === null ? null : departure.at, ...(promptly && row.status === 'active' ? { status: 'draining' as const } : {}) });
    await loop.event({ time: now, type: 'node.departing', leaseId: null, owner: null, group: null, data: { id, ...departure, at: at === null ? null : departure.at } });
    const hows: Array<[keyof NodeDeparture, string]> = [
      ['suspended', 'is suspended before then, its state kept off the node, and resumes on another node later'],
      ['requeued', 'was to run there after then: it is back in the queue'],
      ['restarted', 'could not be suspended in time: it is back in the queue and starts again from the beginning'],
      ['finished', 'has done its work by then: only its shutdown is cut short'],
      ['failed', 'cannot be moved off it and has failed'],
    ];
    for (const [how, what] of hows) {
      for (const leaseId of departure[how] as string[]) {
        const own = loop.owners.get(leaseId);
        await loop.event({ time: now, type: 'lease.departure', leaseId, owner: own?.owner ?? null, group: own?.group ?? null, data: { node: id, at: departure.at, how, message: `node '${id}' leaves the pool at ${departure.at}: the lease ${what}` } });
      }
    }
    await loop.flush();
    return done(departure);
  });
}

/** Has the scheduler plan with figures measured on the pool from now on (see Scheduler.setCosts). */
export function setMeasuredCosts(loop: ControlLoop, given: CostFigures): Promise<Result<void>> {
  return loop.exclusive(async () => {
    const figures: CostFigures = Object.fromEntries(COST_FIGURE_KEYS.filter((k) => given[k] !== undefined).map((k) => [k, given[k]]));
    // The core refuses these figures too (invalid); checked first, since an input the core refuses must never reach the log.
    const problem = costFiguresProblem(figures);
    if (problem) return refuse('invalid-request', `measured costs: ${problem}`);
    const unstorable = costsProblem(figures);
    if (unstorable) return unstorable;
    const now = await loop.syncTo(loop.clock.now());
    await loop.record({ type: 'costs', ...figures }, now);
    await loop.event({ time: now, type: 'pool.costs', leaseId: null, owner: null, group: null, data: figures });
    await loop.flush();
    return done(undefined);
  });
}
