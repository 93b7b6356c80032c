import { BoundaryHeap } from './boundary-heap.ts';
import type { SchedulerConfig } from './config.ts';
import { COST_FIGURE_KEYS, type CostFigures, costFiguresProblem } from './cost-figures.ts';
import { stretchedSeconds } from './costs.ts';
import { type DeadlinePlan, planDeadline } from './deadline-planner.ts';
import { ImageDeployment } from './image-deployment.ts';
import { type ChainSpec, QueuePlacement } from './queue-placement.ts';
import { LeaseCosts } from './lease-costs.ts';
import { hasEnded, type LeaseRecord, newLeaseRecord, queueBefore, remainingWork } from './lease-record.ts';
import { asExactNow, type Quote, quote } from './negotiation.ts';
import { lossOutcome, type NodeLoss } from './node-loss.ts';
import { expandOccurrences, planOccurrences } from './periodic.ts';
import { type PlanContext, type Planned, type Preemption, preemptionKind, suspensionPoint } from './plan-context.ts';
import { PREEMPTION_POLICIES, type PreemptionPolicy } from './preemption-policy.ts';
import { planExact, planUrgent, type ReservationPlan } from './reservation-planner.ts';
import type { Segment } from './segment.ts';
import { SlotTable } from './slot-table.ts';
import { TransferLink } from './transfer-link.ts';
import type { LeaseRequest, NodeSpec, RejectReason, SegmentKind } from './types.ts';

const END = 0;
const START = 1;

export type Decision =
  | {
    ok: true; leaseId: string; state: 'queued' | 'scheduled' | 'held';
    /** For a placed lease: when it runs, where, and who made way for it. */
    start?: number; end?: number; nodes?: number[]; preempted?: Preemption[];
    /** For a periodic lease: its occurrences, and those refused when only some were accepted. */
    occurrences?: string[]; refusedOccurrences?: string[];
  }
  | { ok: false; leaseId: string; reason: RejectReason; message: string; refusedOccurrences?: string[] };

/** Lease kinds whose placement is fixed when accepted, and which can therefore be held. */
const HOLDABLE = new Set(['exact', 'deadline', 'periodic']);

/** What became true at one instant: the plan's actions that took effect. */
export interface StepResult {
  now: number;
  started: Segment[];
  ended: Segment[];
  completed: LeaseRecord[];
  decisions: Decision[];
  /** Leases whose holds expired: cancelled, their resources freed. */
  expired: LeaseRecord[];
  /** Leases that could not begin where they were planned, a node there being lost: see `failure`. */
  failed: LeaseRecord[];
}

/**
 * The lease scheduler. Deterministic: state changes only through submit / finishEarly /
 * advance, each given the current time; no clock, no I/O.
 */
export class Scheduler {
  readonly config: SchedulerConfig;
  readonly table: SlotTable;
  readonly link = new TransferLink();
  private readonly images: ImageDeployment;
  private readonly placement: QueuePlacement;
  private readonly policy: PreemptionPolicy;
  private readonly urgentPolicy: PreemptionPolicy;
  readonly costs: LeaseCosts;
  private readonly ctx: PlanContext;
  private holds: LeaseRecord[] = [];
  /** Bumped by every change that can alter a plan: a plan computed at the same stamp is still right. */
  private stamp = 0;
  private planMemo: { key: string; stamp: number; planned: Planned<ReservationPlan> } | null = null;
  private readonly leases = new Map<string, LeaseRecord>();
  private readonly order: LeaseRecord[] = [];
  private queue: LeaseRecord[] = [];
  private pending: LeaseRecord[] = [];
  private readonly heap = new BoundaryHeap<Segment>();
  private readonly future = new Set<LeaseRecord>();
  /** How long each node that could take a lease of a shape stays free from t, longest first; dropped when the table changes. */
  private mustReevaluate = false;
  private seq = 0;
  private now = 0;
  private steps = 0;
  private result: StepResult | null = null;
  private startedBuffer: Segment[] = [];
  private completedBuffer: LeaseRecord[] = [];
  private readonly maxNodesPerLease: (cpu: number, mem: number) => number;
  /** Nodes closed by a drain, and nodes lost (their agents away): either keeps a node from new work. */
  private readonly drained = new Set<number>();
  private readonly lost = new Set<number>();

  /** `policies`: a site's own preemption policies, named in the config like the built-in ones. */
  constructor(nodes: readonly NodeSpec[], config: SchedulerConfig, policies: readonly PreemptionPolicy[] = []) {
    // A copy: measured costs change it (setCosts), and the caller's configuration is not ours to change.
    this.config = { ...config };
    config = this.config;
    this.table = new SlotTable(nodes);
    const known = { ...PREEMPTION_POLICIES, ...Object.fromEntries(policies.map((p) => [p.name, p])) };
    this.policy = policyNamed(known, config.preemptionPolicy);
    this.urgentPolicy = policyNamed(known, config.urgentPreemptionPolicy);
    this.costs = new LeaseCosts(config);
    this.images = new ImageDeployment(nodes.length, config.imageCacheMiB, this.costs, this.link);
    this.maxNodesPerLease = (cpu, mem) => this.table.openNodesThatFit(cpu, mem);
    const self = this;
    this.ctx = {
      table: this.table, link: this.link, config, costs: this.costs,
      get now() {
        return self.now;
      },
      get tentative() {
        return new Set([...self.future].map((l) => l.req.id));
      },
      leaseById: (id) => this.mustGet(id),
      imageReadyBy: (req, node, t) => this.images.readyBy(req, node, t),
      nodesThatFit: this.maxNodesPerLease,
      planExact: (req, policy) => this.planExactOnce(req, policy),
    };
    this.placement = new QueuePlacement(this.ctx, this.images);
  }

  get time(): number {
    return this.now;
  }

  lease(id: string): LeaseRecord | undefined {
    return this.leases.get(id);
  }

  /** All leases in submission order. */
  allLeases(): readonly LeaseRecord[] {
    return this.order;
  }

  get queueLength(): number {
    return this.queue.length;
  }

  /** The next instant at which a planned segment starts or ends or a hold expires, Infinity if none. */
  nextEventTime(): number {
    return Math.min(this.nextBoundary(), this.holds[0]?.heldUntil ?? Infinity);
  }

  private nextBoundary(): number {
    for (;;) {
      const t = this.heap.peekTime();
      if (t === Infinity) return t;
      const seg = this.peekValid();
      if (seg !== null) return t;
    }
  }

  /** Records a request that arrives at `now`; it is decided at the next advance(now). */
  submit(req: LeaseRequest, now: number): void {
    if (this.leases.has(req.id)) throw new RangeError(`lease id '${req.id}' was already submitted`);
    const work = req.kind === 'best-effort' ? stretchedSeconds(req.duration, this.config.runtimeOverheadPercent) : req.duration;
    const lease = newLeaseRecord(req, this.seq++, work);
    this.leases.set(req.id, lease);
    this.order.push(lease);
    this.pending.push(lease);
    if (now > this.now) this.stamp++;
    this.now = Math.max(this.now, now);
  }

  /**
   * Ends a running lease's current run at `now` (its workload finished before the
   * planned end, or the client stopped it): what was planned after it is cancelled.
   */
  finishEarly(id: string, now: number): void {
    const lease = this.mustGet(id);
    const run = lease.chain.find((s) => s.kind === 'run' && s.active);
    if (!run) throw new Error(`lease ${id} is not running at ${now}`);
    const heldUntil = contiguousEnd(lease.chain, lease.chain.indexOf(run));
    this.now = now;
    this.cutChainAfter(lease, run);
    this.truncate(run, now);
    lease.work = lease.done;
    lease.chainEndsIn = 'finish';
    this.placeShutdown(lease, now, heldUntil, run.nodes);
    this.settleIfChainDone(lease, now);
    this.mustReevaluate = true;
  }

  // ---- the pool ----

  /** Adds a node; it takes leases from the next decision on. Returns its index (never reused). */
  addNode(spec: NodeSpec, now: number): number {
    this.mustBeAt(now, 'addNode');
    this.stamp++;
    const n = this.table.addNode(spec);
    this.images.addNode();
    this.placement.forgetProfiles();
    this.mustReevaluate = true;
    return n;
  }

  /**
   * Drains node n: it takes no new leases; what runs there runs on. Best-effort leases merely
   * planned there go back to the queue; other leases planned there keep their place, and are
   * returned so that the caller can tell their owners.
   */
  closeNode(n: number, now: number): { requeued: string[]; stillPlanned: string[] } {
    this.mustBeAt(now, 'closeNode');
    if (n < 0 || n >= this.table.size) throw new RangeError(`no node ${n} in a pool of ${this.table.size}`);
    this.stamp++;
    this.drained.add(n);
    this.table.close(n);
    this.placement.forgetProfiles();
    const requeued: string[] = [];
    const stillPlanned: string[] = [];
    // Leases due to arrive on the node later: to boot, resume or migrate there.
    const arriving = this.table.reservationsOn(n).filter((s) => !s.active && s.start > now && (s.kind === 'boot' || s.kind === 'resume' || s.kind === 'migrate' || s.kind === 'run'));
    for (const id of new Set(arriving.map((s) => s.leaseId))) {
      const lease = this.mustGet(id);
      const begun = lease.chain.length === 0 || lease.chain[0].active || lease.chain[0].start <= now;
      if (lease.req.kind === 'best-effort' && !begun) {
        this.unschedule(lease, now);
        requeued.push(id);
      } else if (lease.req.kind !== 'best-effort') stillPlanned.push(id);
    }
    return { requeued, stillPlanned };
  }

  /** Whether node n holds nothing now or later, so that it can leave the pool. */
  nodeIsIdle(n: number): boolean {
    return this.table.reservationsOn(n).length === 0;
  }

  nodeIsDrained(n: number): boolean {
    return this.drained.has(n);
  }

  nodeIsLost(n: number): boolean {
    return this.lost.has(n);
  }

  /**
   * Node n is lost: its VMs are gone with what they held, and it takes nothing new until
   * regainNode. Each lease that had a VM there, or planned to come to it, is dealt with by
   * lossOutcome (node-loss.ts); the queue pass of the next advance places the requeued ones.
   */
  loseNode(n: number, now: number): NodeLoss {
    this.mustBeAt(now, 'loseNode');
    if (n < 0 || n >= this.table.size) throw new RangeError(`no node ${n} in a pool of ${this.table.size}`);
    const loss: NodeLoss = { restarted: [], requeued: [], failed: [], finished: [], waiting: [] };
    if (this.lost.has(n)) return loss;
    this.stamp++;
    this.lost.add(n);
    this.table.close(n);
    this.placement.forgetProfiles();
    this.mustReevaluate = true;
    const name = this.table.nodes[n].id;
    for (const lease of this.order) {
      if (hasEnded(lease) || lease.state === 'expanded' || lease.state === 'rejected') continue;
      switch (lossOutcome(lease, n)) {
        case 'restart':
          this.restartLost(lease, now);
          loss.restarted.push(lease.req.id);
          break;
        case 'unschedule':
          this.unschedule(lease, now);
          loss.requeued.push(lease.req.id);
          break;
        case 'power-off':
          this.powerOffAt(lease, now);
          loss.finished.push(lease.req.id);
          break;
        case 'fail':
          this.failLease(lease, now, 'node-unavailable', `node '${name}' became unavailable while the lease's VMs were on it: a ${lease.req.kind} lease's run cannot be interrupted and moved, so it could not be kept`);
          loss.failed.push(lease.req.id);
          break;
        case 'wait':
          loss.waiting.push(lease.req.id);
          break;
        case 'untouched':
          break;
      }
    }
    return loss;
  }

  /** A lost node is back: it takes new work again, unless it was drained meanwhile. */
  regainNode(n: number, now: number): void {
    this.mustBeAt(now, 'regainNode');
    if (!this.lost.delete(n)) return;
    this.stamp++;
    if (!this.drained.has(n)) this.table.open(n);
    this.placement.forgetProfiles();
    this.mustReevaluate = true;
  }

  /**
   * Replaces cost figures of the model with measured ones. Whatever is planned from now on uses
   * them; what is already planned keeps its times, as other leases were planned around them. Leases
   * backfilled into the future are placed again, with the new figures.
   */
  setCosts(figures: CostFigures, now: number): void {
    this.mustBeAt(now, 'setCosts');
    const problem = costFiguresProblem(figures);
    if (problem) throw new RangeError(problem);
    for (const key of COST_FIGURE_KEYS) {
      const value = figures[key];
      if (value !== undefined) this.config[key] = value;
    }
    this.stamp++;
    this.placement.forgetProfiles();
    this.mustReevaluate = true;
  }

  // ---- negotiation ----

  /**
   * What the scheduler would do with `req` now, without doing it: accepted with its plan, or
   * refused with the earliest feasible start and alternatives, each of which would be accepted
   * if requested unchanged before anything else changes. The scheduler must have been advanced to `now`.
   */
  quote(req: LeaseRequest, now: number, maxAlternatives = 3): Quote {
    this.mustBeAt(now, 'quote');
    return quote(this.ctx, req, { preemption: this.policy, urgent: this.urgentPolicy, queueLength: this.queue.length }, maxAlternatives);
  }

  /**
   * Decides `req` at once and holds what it was given until `now + ttlSeconds` (or until just
   * before it would begin): unless committed by then, it is cancelled and its resources freed.
   * Leases it preempts are preempted as for an accepted lease, since a hold must be kept.
   */
  hold(req: LeaseRequest, now: number, ttlSeconds: number): Decision {
    this.mustBeAt(now, 'hold');
    if (!HOLDABLE.has(req.kind)) throw new RangeError(`a ${req.kind} lease cannot be held: only ${[...HOLDABLE].join(', ')} leases are placed when accepted`);
    if (!(ttlSeconds > 0)) throw new RangeError(`a hold must last more than 0 s, got ${ttlSeconds}`);
    const q = this.quote(req, now, 0);
    this.submit(req, now);
    this.pending.pop();
    const lease = this.mustGet(req.id);
    if (q.ok && q.start - this.config.bootSeconds <= now) {
      return this.reject(lease, 'too-late', `it would begin now (${now}): there is nothing to hold; create it instead`);
    }
    const decision = this.decide(lease, now);
    if (!decision.ok) return decision;
    const parts = this.partsOf(lease).filter((p) => p.state === 'scheduled');
    const begins = Math.min(...parts.map((p) => p.chain[0]?.start ?? Infinity));
    const until = Math.min(now + ttlSeconds, begins);
    lease.heldUntil = until;
    for (const p of parts) p.state = 'held';
    insertByTime(this.holds, lease);
    return { ...decision, state: 'held' };
  }

  /** Makes a held lease binding. */
  commit(id: string, now: number): Decision {
    this.mustBeAt(now, 'commit');
    const lease = this.leases.get(id);
    if (!lease) throw new RangeError(`no lease '${id}' to commit`);
    if (lease.heldUntil === null) {
      const why = lease.state === 'cancelled' ? 'its hold expired' : `it is ${lease.state}, not held`;
      return { ok: false, leaseId: id, reason: 'policy', message: `cannot commit lease '${id}': ${why}` };
    }
    this.holds.splice(this.holds.indexOf(lease), 1);
    lease.heldUntil = null;
    for (const p of this.partsOf(lease)) if (p.state === 'held') p.state = 'scheduled';
    return { ok: true, leaseId: id, state: 'scheduled' };
  }

  /**
   * Withdraws a lease: a queued one leaves the queue; a placed one gives its reservations up;
   * a running one stops now. Its outcome is `cancelled`. False if it had already ended.
   */
  cancel(id: string, now: number): boolean {
    this.mustBeAt(now, 'cancel');
    const lease = this.leases.get(id);
    if (!lease) throw new RangeError(`no lease '${id}' to cancel`);
    const live = this.partsOf(lease).filter((p) => !hasEnded(p));
    if (live.length === 0) return false;
    if (lease.heldUntil !== null) {
      this.holds.splice(this.holds.indexOf(lease), 1);
      lease.heldUntil = null;
    }
    for (const p of live) this.cancelLease(p, now);
    if (lease.state === 'expanded') lease.state = 'cancelled';
    return true;
  }

  private mustBeAt(now: number, what: string): void {
    if (now !== this.now) throw new RangeError(`${what} at ${now}, but the scheduler is at ${this.now}: advance it to ${now} first`);
  }

  /** A lease and, for a periodic one, its occurrences: the records that hold reservations. */
  private partsOf(lease: LeaseRecord): LeaseRecord[] {
    return lease.occurrenceIds ? lease.occurrenceIds.map((id) => this.mustGet(id)) : [lease];
  }

  private expireHolds(now: number): LeaseRecord[] {
    const expired: LeaseRecord[] = [];
    while (this.holds.length > 0 && this.holds[0].heldUntil! <= now) {
      const lease = this.holds.shift()!;
      lease.heldUntil = null;
      for (const p of this.partsOf(lease)) this.cancelLease(p, now);
      if (lease.state === 'expanded') lease.state = 'cancelled';
      expired.push(lease);
    }
    return expired;
  }

  private cancelLease(lease: LeaseRecord, now: number): void {
    this.stamp++;
    if (lease.state === 'queued' || lease.state === 'suspended') {
      const i = this.queue.indexOf(lease);
      if (i >= 0) this.queue.splice(i, 1);
    }
    const running = lease.chain.find((s) => s.active);
    if (running) {
      this.cutChainAfter(lease, running);
      this.truncate(running, now);
    }
    this.dropPlan(lease, now);
    this.stamp++;
    this.images.release(lease, this.now);
    lease.state = 'cancelled';
    lease.endedAt = now;
    this.mustReevaluate = true;
  }

  /**
   * A shutdown that cannot finish before its nodes are promised to another lease is cut
   * short where the lease's own reservation ended: the VM is powered off.
   */
  private placeShutdown(lease: LeaseRecord, from: number, heldUntil: number, nodes: readonly number[]): void {
    const full = from + this.config.shutdownSeconds;
    if (full <= from) return;
    const { cpu, memoryMiB } = lease.req.perNode;
    const fits = full <= heldUntil || nodes.every((n) => this.table.freeUntil(n, from, cpu, memoryMiB, full) >= full);
    const end = fits ? full : heldUntil;
    if (end > from) lease.chain.push(this.place(lease, 'shutdown', from, end, nodes));
  }

  /**
   * The owner suspends a running best-effort lease now: its run ends, its memory is saved, and it
   * waits, out of the queue, until resumeByOwner. Throws with what to do when it cannot.
   */
  suspendByOwner(id: string, now: number): void {
    this.mustBeAt(now, 'suspendByOwner');
    const lease = this.mustGet(id);
    if (lease.req.kind !== 'best-effort') throw new RangeError(`lease ${id} is ${lease.req.kind}: only best-effort leases can be suspended by their owner (a reservation keeps its window; cancel it instead)`);
    const run = lease.chain.find((s) => s.kind === 'run' && s.active);
    if (!run) throw new RangeError(`lease ${id} is not running (${lease.state}); only a running lease can be suspended`);
    this.cutChainAfter(lease, run);
    this.truncate(run, now);
    lease.chainEndsIn = 'suspend';
    lease.parked = true;
    const s = this.costs.suspendSeconds(lease.req);
    if (s > 0) lease.chain.push(this.place(lease, 'suspend', now, now + s, run.nodes));
    this.settleIfChainDone(lease, now, run.nodes);
    this.mustReevaluate = true;
  }

  /**
   * Why the running lease `id` cannot move to `toNodes` now (live, as it runs), or null if it can:
   * it must be running, on as many nodes as it has, open ones it is not on, with room there for
   * the rest of its chain.
   */
  liveMigrationRefusal(id: string, toNodes: readonly number[], now: number): string | null {
    const lease = this.leases.get(id);
    if (!lease) return `no lease ${id}`;
    // The schedule contract keeps a reservation's run in one piece on its nodes; only leases whose runs may be split move.
    if (lease.req.kind !== 'best-effort' && lease.req.kind !== 'deadline') return `lease ${id} is ${lease.req.kind}: only best-effort and deadline leases migrate (a reservation keeps its nodes)`;
    const run = lease.chain.find((s) => s.kind === 'run' && s.active);
    if (!run || run.start > now) return `lease ${id} is not running (${lease.state}); only a running lease migrates live`;
    if (run.start === now) return `lease ${id} starts running at this very instant: migrate it once it runs`;
    if (toNodes.length !== run.nodes.length) return `lease ${id} runs on ${run.nodes.length} node(s): name as many to move to, not ${toNodes.length}`;
    if (new Set(toNodes).size !== toNodes.length) return 'name each node to move to once';
    const { cpu, memoryMiB } = lease.req.perNode;
    for (const n of toNodes) {
      if (n < 0 || n >= this.table.size || !this.table.isOpen(n)) return `node ${n} is not open to new work`;
      if (run.nodes.includes(n)) return `lease ${id} already runs on node ${n}`;
      for (const seg of lease.chain.slice(lease.chain.indexOf(run))) {
        const from = Math.max(seg.start, now);
        if (this.table.freeUntil(n, from, cpu, memoryMiB, seg.end) < seg.end) return `node ${n} has no room for lease ${id} from ${from} to ${seg.end}`;
      }
    }
    return null;
  }

  /** Moves a running lease to `toNodes` now: its run goes on there, and the rest of its chain follows. */
  migrateLive(id: string, toNodes: readonly number[], now: number): void {
    this.mustBeAt(now, 'migrateLive');
    const refusal = this.liveMigrationRefusal(id, toNodes, now);
    if (refusal) throw new RangeError(refusal);
    const lease = this.mustGet(id);
    const run = lease.chain.find((s) => s.kind === 'run' && s.active)!;
    const rest = lease.chain.slice(lease.chain.indexOf(run)).map((s) => ({ kind: s.kind, start: Math.max(s.start, now), end: s.end }));
    this.cutChainAfter(lease, run);
    this.truncate(run, now);
    for (const s of rest) if (s.end > s.start) lease.chain.push(this.place(lease, s.kind, s.start, s.end, toNodes));
    lease.migrations++;
    this.mustReevaluate = true;
  }

  /** The owner lets a lease it suspended go back to the queue, by its original arrival. */
  resumeByOwner(id: string, now: number): void {
    this.mustBeAt(now, 'resumeByOwner');
    const lease = this.mustGet(id);
    if (!lease.parked) throw new RangeError(`lease ${id} was not suspended by its owner (${lease.state}); there is nothing to resume`);
    lease.parked = false;
    // 'queued': its saved state was lost with a node, and it starts again from scratch.
    if (lease.state === 'suspended' || lease.state === 'queued') this.enqueue(lease);
  }

  /** Applies everything that happens at `now`, then decides pending requests and the queue. */
  advance(now: number): StepResult {
    if (now < this.now) throw new RangeError(`time went backwards: ${now} < ${this.now}`);
    if (now > this.now) this.stamp++;
    this.now = now;
    const result: StepResult = { now, started: this.startedBuffer, ended: [], completed: this.completedBuffer, decisions: [], expired: [], failed: [] };
    this.startedBuffer = [];
    this.completedBuffer = [];
    this.result = result;
    result.expired = this.expireHolds(now);
    this.applyBoundaries(now, result);
    this.decidePending(now, result);
    if (this.mustReevaluate) this.reevaluateFuture(now);
    this.processQueue(now, result);
    this.applyBoundaries(now, result);
    this.result = null;
    if (++this.steps % 512 === 0) {
      this.table.prune(now);
      this.link.prune(now);
    }
    return result;
  }

  // ---- boundaries ----

  private peekValid(): Segment | null {
    for (;;) {
      const t = this.heap.peekTime();
      if (t === Infinity) return null;
      const seg = this.heap.peek()!;
      if (this.isLiveBoundary(seg, t)) return seg;
      this.heap.pop();
    }
  }

  private isLiveBoundary(seg: Segment, t: number): boolean {
    if (seg.removed) return false;
    if (seg.active) return seg.end === t;
    return seg.start === t && seg.end > t;
  }

  private applyBoundaries(now: number, result: StepResult): void {
    while (this.heap.peekTime() <= now) {
      const t = this.heap.peekTime();
      const seg = this.heap.pop()!;
      if (!this.isLiveBoundary(seg, t)) continue;
      if (t < now) throw new Error(`internal: missed a boundary at ${t} (now ${now})`);
      if (seg.active) this.endSegment(seg, result);
      else if (this.lost.size > 0 && seg.nodes.some((n) => this.lost.has(n))) this.failOnLostNode(seg, now, result);
      else this.startSegment(seg);
    }
  }

  private startSegment(seg: Segment): void {
    this.stamp++;
    const lease = this.mustGet(seg.leaseId);
    this.table.activate(seg);
    (this.result?.started ?? this.startedBuffer).push(seg);
    if (lease.inFuture) {
      lease.inFuture = false;
      this.future.delete(lease);
    }
    lease.state = 'active';
    if (lease.firstStart === null) lease.firstStart = seg.start;
    if (seg.kind === 'migrate') lease.migrations++;
  }

  private endSegment(seg: Segment, result: StepResult): void {
    this.stamp++;
    const lease = this.mustGet(seg.leaseId);
    this.table.deactivate(seg);
    result.ended.push(seg);
    if (seg.kind === 'run') lease.done += seg.end - seg.start;
    const i = lease.chain.indexOf(seg);
    if (i >= 0) lease.chain.splice(i, 1);
    if (seg.kind === 'suspend' && lease.chain.length > 0) {
      // A deadline lease planned in pieces waits, suspended, for its next piece.
      lease.suspensions++;
      lease.state = 'scheduled';
    }
    this.settleIfChainDone(lease, seg.end, seg.nodes);
  }

  /** Once a lease's chain has run out it is either complete or suspended and queued again. */
  private settleIfChainDone(lease: LeaseRecord, at: number, lastNodes?: readonly number[]): void {
    if (lease.chain.length > 0 || (lease.state !== 'active' && lease.state !== 'scheduled')) return;
    if (lease.chainEndsIn === 'suspend' && remainingWork(lease) > 0) {
      lease.state = 'suspended';
      lease.suspensions++;
      if (this.config.suspendedQueueOrder === 'suspension') lease.queuedAt = at;
      lease.suspendedOn = lastNodes ?? lease.history[lease.history.length - 1]?.nodes ?? null;
      if (!lease.parked) this.enqueue(lease);
    } else {
      this.complete(lease, at);
      (this.result?.completed ?? this.completedBuffer).push(lease);
    }
  }

  /** A reservation that waited for a lost node is due to begin there, and the node is still lost. */
  private failOnLostNode(seg: Segment, now: number, result: StepResult): void {
    const lease = this.mustGet(seg.leaseId);
    const names = seg.nodes.filter((n) => this.lost.has(n)).map((n) => `'${this.table.nodes[n].id}'`).join(', ');
    this.failLease(lease, now, 'node-unavailable', `its ${seg.kind} was due to begin at ${now} on node ${names}, which is still unavailable`);
    result.failed.push(lease);
  }

  /** Stops a lease for good, with a reason its owner can read (lease.failure). */
  private failLease(lease: LeaseRecord, now: number, code: string, message: string): void {
    this.cancelLease(lease, now);
    lease.failure = { code, message };
  }

  /** A best-effort lease whose VMs were lost starts again from scratch; one its owner suspended stays out of the queue. */
  private restartLost(lease: LeaseRecord, now: number): void {
    const i = this.queue.indexOf(lease);
    if (i >= 0) this.queue.splice(i, 1);
    this.restartLosingWork(lease, now);
    if (lease.parked) this.queue.splice(this.queue.indexOf(lease), 1);
  }

  private complete(lease: LeaseRecord, at: number): void {
    lease.state = 'completed';
    lease.endedAt = at;
    this.stamp++;
    this.images.release(lease, this.now);
  }

  // ---- requests ----

  private decidePending(now: number, result: StepResult): void {
    const pending = this.pending;
    this.pending = [];
    for (const lease of pending) result.decisions.push(this.decide(lease, now));
  }

  private decide(lease: LeaseRecord, now: number): Decision {
    const { req } = lease;
    const fit = this.maxNodesPerLease(req.perNode.cpu, req.perNode.memoryMiB);
    if (req.nodes > fit) {
      return this.reject(lease, 'exceeds-pool', `asks for ${req.nodes} nodes with ${req.perNode.cpu} CPU and ${req.perNode.memoryMiB} MiB each; the pool has ${fit} such nodes`);
    }
    switch (req.kind) {
      case 'best-effort':
        this.enqueue(lease);
        return { ok: true, leaseId: req.id, state: 'queued' };
      case 'exact':
        return this.placeReservation(lease, this.planExactOnce(req, this.policy), now);
      case 'immediate':
        return this.placeReservation(lease, this.planExactOnce(asExactNow(this.ctx, req), null), now);
      case 'urgent':
        return this.placeReservation(lease, planUrgent(this.ctx, req, this.urgentPolicy), now);
      case 'deadline':
        return this.placeDeadline(lease, planDeadline(this.ctx, req), now);
      case 'periodic':
        return this.placePeriodic(lease, now);
    }
  }

  /**
   * planExact, remembering its last answer: a request quoted and then decided with nothing changed
   * in between (the service's create, a hold) is planned once. The stamp makes a remembered plan
   * exactly what planning again would give, so that live running and replays stay the same.
   */
  private planExactOnce(req: LeaseRequest, policy: PreemptionPolicy | null): Planned<ReservationPlan> {
    const key = JSON.stringify([req, policy?.name ?? null]);
    if (this.planMemo && this.planMemo.key === key && this.planMemo.stamp === this.stamp) return this.planMemo.planned;
    const planned = planExact(this.ctx, req, policy);
    this.planMemo = { key, stamp: this.stamp, planned };
    return planned;
  }

  private reject(lease: LeaseRecord, reason: RejectReason, message: string): Decision {
    lease.state = 'rejected';
    lease.rejectReason = reason;
    return { ok: false, leaseId: lease.req.id, reason, message };
  }

  // ---- leases placed when accepted ----

  private placeReservation(lease: LeaseRecord, planned: Planned<ReservationPlan>, now: number): Decision {
    if (!planned.ok) return this.reject(lease, planned.reason, planned.message);
    const { plan } = planned;
    for (const p of plan.preempted) this.preempt(this.mustGet(p.leaseId), plan.from, now);
    this.buildChain(lease, { t: plan.from, nodes: plan.nodes, end: plan.end, full: true, moved: false, transferStart: plan.transferStart }, now);
    return { ok: true, leaseId: lease.req.id, state: 'scheduled', start: plan.start, end: plan.end, nodes: plan.nodes, preempted: plan.preempted };
  }

  /** Lays out a deadline lease's pieces: boot or (migrate and) resume, run, then suspend or, in the last, shutdown. */
  private placeDeadline(lease: LeaseRecord, planned: Planned<DeadlinePlan>, now: number): Decision {
    if (!planned.ok) return this.reject(lease, planned.reason, planned.message);
    for (const l of [...this.future].sort((a, b) => a.seq - b.seq)) if (l.chain.length > 0 && l.chain[0].start > now) this.unschedule(l, now);
    const { pieces, transferStart } = planned.plan;
    lease.chain = [];
    lease.state = 'scheduled';
    let remaining = remainingWork(lease);
    for (const piece of pieces) {
      let t = piece.from;
      const add = (kind: SegmentKind, seconds: number): void => {
        if (seconds <= 0) return;
        lease.chain.push(this.place(lease, kind, t, t + seconds, piece.nodes));
        t += seconds;
      };
      if (piece.first) add('boot', this.config.bootSeconds);
      else {
        if (piece.moved) add('migrate', this.costs.migrateSeconds(lease.req));
        add('resume', this.costs.resumeSeconds(lease.req));
      }
      if (piece.last) {
        add('run', remaining);
        add('shutdown', Math.min(this.config.shutdownSeconds, piece.end - t));
      } else {
        const suspend = this.costs.suspendSeconds(lease.req);
        const run = piece.end - suspend - t;
        add('run', run);
        add('suspend', suspend);
        remaining -= run;
      }
    }
    lease.chainEndsIn = 'finish';
    if (transferStart !== null) this.images.send(lease, pieces[0].nodes, transferStart, now);
    else if (this.costs.needsTransfer(lease.req)) this.images.useCached(lease, pieces[0].nodes, now);
    const first = pieces[0];
    return { ok: true, leaseId: lease.req.id, state: 'scheduled', start: first.from + (first.first ? this.config.bootSeconds : 0), end: planned.plan.end, nodes: first.nodes, preempted: [] };
  }

  /**
   * A periodic lease is accepted whole if every occurrence fits (or, if the client allows, as the
   * occurrences that fit); each occurrence becomes an exact lease of its own, `ID#K`.
   */
  private placePeriodic(lease: LeaseRecord, now: number): Decision {
    const occurrences = expandOccurrences(lease.req, this.config);
    if (typeof occurrences === 'string') return this.reject(lease, 'invalid', occurrences);
    const plans = planOccurrences(this.ctx, occurrences, this.policy).map(({ request, planned }) => ({ o: request, planned }));
    const refused = plans.filter((p) => !p.planned.ok).map((p) => p.o.id);
    const partial = lease.req.recurrence?.acceptPartial === true;
    if (refused.length === plans.length || (refused.length > 0 && !partial)) {
      const first = plans.find((p) => !p.planned.ok)!.planned as { ok: false; reason: RejectReason; message: string };
      const decision = this.reject(lease, first.reason, `${refused.length} of ${plans.length} occurrences do not fit, the first (${refused[0]}) because: ${first.message}`);
      return { ...decision, refusedOccurrences: refused };
    }
    const ids: string[] = [];
    for (const { o } of plans) {
      const part = newLeaseRecord(o, this.seq++, o.duration);
      this.leases.set(o.id, part);
      this.order.push(part);
      ids.push(o.id);
      if (refused.includes(o.id)) {
        this.reject(part, 'insufficient-capacity', 'this occurrence does not fit');
        continue;
      }
      // Earlier occurrences only took time before this one's and freed what they preempted: it still fits.
      const placed = this.placeReservation(part, planExact(this.ctx, o, this.policy), now);
      if (!placed.ok) throw new Error(`internal: occurrence ${o.id} fitted when quoted but not when placed: ${placed.message}`);
    }
    lease.state = 'expanded';
    lease.occurrenceIds = ids;
    return { ok: true, leaseId: lease.req.id, state: 'scheduled', occurrences: ids.filter((id) => !refused.includes(id)), refusedOccurrences: refused };
  }

  /** Makes a lease give up its resources from `at` on. */
  private preempt(lease: LeaseRecord, at: number, now: number): void {
    lease.preemptions++;
    switch (preemptionKind(this.ctx, lease, at)) {
      case 'power-off':
        return this.powerOffAt(lease, at);
      case 'unschedule':
        return lease.chain.length > 0 ? this.unschedule(lease, now) : undefined;
      case 'suspend':
        return this.suspendBy(lease, at);
      case 'requeue':
        return this.restartLosingWork(lease, now);
    }
  }

  /** A lease whose work is done has only its shutdown left: whatever of it falls after `at` is cut. */
  private powerOffAt(lease: LeaseRecord, at: number): void {
    for (const seg of [...lease.chain]) {
      if (seg.start >= at) {
        this.dropSegment(lease, seg);
        const i = lease.chain.indexOf(seg);
        if (i >= 0) lease.chain.splice(i, 1);
      } else if (seg.end > at) this.truncate(seg, at);
    }
    this.settleIfChainDone(lease, at);
  }

  private suspendBy(lease: LeaseRecord, at: number): void {
    const point = suspensionPoint(this.ctx, lease, at)!;
    const run = lease.chain[point.runIndex];
    this.cutChainAfter(lease, run);
    this.truncate(run, point.suspendAt);
    lease.chainEndsIn = 'suspend';
    const s = this.costs.suspendSeconds(lease.req);
    if (s > 0) lease.chain.push(this.place(lease, 'suspend', point.suspendAt, at, run.nodes));
    this.settleIfChainDone(lease, at, run.nodes);
  }

  // ---- best-effort queue ----

  private enqueue(lease: LeaseRecord): void {
    if (lease.state !== 'suspended') lease.state = 'queued';
    insertSorted(this.queue, lease);
  }

  private canPlaceInFuture(): boolean {
    const b = this.config.backfill;
    return b === 'conservative' || (b === 'easy' && this.future.size < 1);
  }

  private processQueue(now: number, result: StepResult): void {
    if (this.queue.length === 0) return;
    this.placement.forgetProfiles();
    const waiting: LeaseRecord[] = [];
    const q = this.queue;
    this.queue = [];
    let i = 0;
    for (; i < q.length; i++) {
      const allowFuture = this.canPlaceInFuture();
      if (!allowFuture && this.table.nodesNotFullNow === 0) break;
      const lease = q[i];
      if (this.scheduleBestEffort(lease, now, allowFuture)) {
        result.decisions.push({ ok: true, leaseId: lease.req.id, state: 'scheduled' });
        continue;
      }
      waiting.push(lease);
      if (this.config.backfill === 'none') {
        i++;
        break;
      }
    }
    for (; i < q.length; i++) waiting.push(q[i]);
    // Leases preempted while the queue was processed were enqueued into this.queue meanwhile.
    for (const l of this.queue) insertSorted(waiting, l);
    this.queue = waiting;
  }

  private scheduleBestEffort(lease: LeaseRecord, now: number, allowFuture: boolean): boolean {
    const req = lease.req;
    const times = this.placement.nearTimes(lease, now);
    for (const t of times) {
      if (t === now && req.nodes > this.table.nodesNotFullNow) continue;
      if (!this.placement.windowAtLeast(lease, t, now)) continue;
      const spec = this.placement.findChainAt(lease, t, now, true);
      if (spec) {
        this.buildChain(lease, spec, now);
        return true;
      }
    }
    if (!allowFuture) return false;
    const bound = this.placement.earliestPossibleStart(lease, times[times.length - 1], now);
    // Only a pool that lost nodes (drained) can leave a lease with nowhere to go: it waits for nodes to be added.
    if (bound === Infinity) return false;
    let spec = this.placement.findChainAt(lease, bound, now, true);
    // The bound ignores which nodes a suspended lease prefers and its images; later ends are tried only if it misses.
    for (const t of spec ? [] : this.table.endsAfter(bound)) {
      spec = this.placement.findChainAt(lease, t, now, true);
      if (spec) break;
    }
    if (spec) {
      lease.lastPlannedStart = null;
      this.buildChain(lease, spec, now);
      lease.inFuture = true;
      this.future.add(lease);
      return true;
    }
    // A suspended lease that may not migrate waits for all its nodes; one of them may have been drained.
    const stranded = lease.state === 'suspended' && !this.config.migration && (lease.suspendedOn ?? []).some((n) => !this.table.isOpen(n));
    if (stranded) return false;
    throw new Error(`internal: no place found for best-effort lease ${req.id} even after every reservation ends`);
  }

  /** Lays out boot / migrate / resume, run, and shutdown or suspend, on the chosen nodes. */
  private buildChain(lease: LeaseRecord, spec: ChainSpec, now: number): void {
    const { nodes } = spec;
    const suspended = lease.state === 'suspended';
    let t = spec.t;
    const add = (kind: SegmentKind, seconds: number): void => {
      if (seconds <= 0) return;
      lease.chain.push(this.place(lease, kind, t, t + seconds, nodes));
      t += seconds;
    };
    lease.chain = [];
    lease.state = 'scheduled';
    if (!suspended) add('boot', this.config.bootSeconds);
    else {
      if (spec.moved) add('migrate', this.costs.migrateSeconds(lease.req));
      add('resume', this.costs.resumeSeconds(lease.req));
    }
    if (spec.full) {
      add('run', remainingWork(lease));
      add('shutdown', this.config.shutdownSeconds);
      lease.chainEndsIn = 'finish';
    } else if (spec.end - this.costs.suspendSeconds(lease.req) - t >= remainingWork(lease)) {
      // The work fits before the window ends, only its shutdown does not: the VM is powered off
      // where the window ends, as placeShutdown does, rather than "suspended" with nothing left to do.
      add('run', remainingWork(lease));
      add('shutdown', spec.end - t);
      lease.chainEndsIn = 'finish';
    } else {
      const s = this.costs.suspendSeconds(lease.req);
      add('run', spec.end - s - t);
      add('suspend', s);
      lease.chainEndsIn = 'suspend';
    }
    if (spec.transferStart !== null) this.images.send(lease, nodes, spec.transferStart, now);
    else if (lease.req.image && this.config.images === 'transfer' && !suspended) this.images.useCached(lease, nodes, now);
    if (suspended) lease.suspendedOn = null;
  }

  private place(lease: LeaseRecord, kind: SegmentKind, start: number, end: number, nodes: readonly number[]): Segment {
    this.stamp++;
    this.placement.forgetProfiles();
    const seg = this.table.reserve(lease.req.id, kind, start, end, nodes, lease.req.perNode.cpu, lease.req.perNode.memoryMiB);
    lease.history.push(seg);
    this.heap.push(end, END, seg);
    if (start <= this.now) this.startSegment(seg);
    else this.heap.push(start, START, seg);
    return seg;
  }

  private truncate(seg: Segment, end: number): void {
    this.stamp++;
    this.placement.forgetProfiles();
    this.table.setEnd(seg, end);
    if (seg.active && end <= this.now) {
      this.table.deactivate(seg);
      if (seg.kind === 'run') this.mustGet(seg.leaseId).done += end - seg.start;
      const lease = this.mustGet(seg.leaseId);
      const i = lease.chain.indexOf(seg);
      if (i >= 0) lease.chain.splice(i, 1);
      return;
    }
    this.heap.push(end, END, seg);
  }

  private cutChainAfter(lease: LeaseRecord, seg: Segment): void {
    const i = lease.chain.indexOf(seg);
    for (const later of lease.chain.slice(i + 1)) this.dropSegment(lease, later);
    lease.chain.length = i + 1;
  }

  /** Removes a segment that has not begun; one that has begun is cut at now. */
  private dropSegment(lease: LeaseRecord, seg: Segment): void {
    this.stamp++;
    this.placement.forgetProfiles();
    if (seg.active || seg.start < this.now) {
      this.truncate(seg, Math.min(seg.end, this.now));
      return;
    }
    this.table.release(seg);
    const h = lease.history.lastIndexOf(seg);
    if (h >= 0) lease.history.splice(h, 1);
  }

  /** Gives up every segment of the lease's chain that has not happened, and its planned transfers. */
  private dropPlan(lease: LeaseRecord, now: number): void {
    this.stamp++;
    for (const s of [...lease.chain]) this.dropSegment(lease, s);
    lease.chain = [];
    if (lease.inFuture) {
      lease.inFuture = false;
      this.future.delete(lease);
    }
    this.link.cancel(lease.req.id, now);
  }

  /** Takes a lease that has not begun its chain back to the queue, keeping its work. */
  private unschedule(lease: LeaseRecord, now: number): void {
    const wasSuspendedOn = lease.chain.length > 0 && lease.chain[0].kind !== 'boot' && lease.chain[0].kind !== 'run' ? this.previousMemoryNodes(lease) : null;
    this.dropPlan(lease, now);
    if (wasSuspendedOn) {
      lease.state = 'suspended';
      lease.suspendedOn = wasSuspendedOn;
    } else {
      this.stamp++;
    this.images.release(lease, this.now);
      lease.state = 'queued';
    }
    this.enqueue(lease);
  }

  private previousMemoryNodes(lease: LeaseRecord): readonly number[] | null {
    const last = findLastIndex(lease.history, (s) => s.kind === 'suspend' && s.end <= this.now);
    return last >= 0 ? lease.history[last].nodes : (lease.chain[0]?.nodes ?? null);
  }

  /** Cancels a lease that has begun and queues it again from scratch: the work done so far is lost. */
  private restartLosingWork(lease: LeaseRecord, now: number): void {
    this.dropPlan(lease, now);
    lease.lost.push({ segments: lease.history });
    lease.history = [];
    lease.done = 0;
    lease.work = lease.req.kind === 'best-effort' ? stretchedSeconds(lease.req.duration, this.config.runtimeOverheadPercent) : lease.req.duration;
    lease.firstStart = null;
    lease.suspendedOn = null;
    this.stamp++;
    this.images.release(lease, this.now);
    lease.state = 'queued';
    this.enqueue(lease);
  }

  /** Leases placed in the future by backfilling get another chance once resources free up early. */
  private reevaluateFuture(now: number): void {
    this.mustReevaluate = false;
    const freedUntil = this.table.freedUntil;
    this.table.forgetFreed();
    if (this.future.size === 0) return;
    const again = [...this.future].sort((a, b) => a.seq - b.seq);
    // EASY's one reservation, first in the queue's order, stays put when nothing freed since could move it.
    const head = again[0];
    if (this.config.backfill === 'easy' && again.length === 1 && (this.queue.length === 0 || queueBefore(head, this.queue[0])) && this.placement.staysPut(head, now, freedUntil)) return;
    for (const lease of again) {
      if (lease.chain.length === 0 || lease.chain[0].start <= now) continue;
      lease.lastPlannedStart = lease.chain[0].start;
      this.unschedule(lease, now);
    }
  }

  private mustGet(id: string): LeaseRecord {
    const l = this.leases.get(id);
    if (!l) throw new Error(`internal: unknown lease ${id}`);
    return l;
  }
}

function policyNamed(known: Readonly<Record<string, PreemptionPolicy>>, name: string): PreemptionPolicy {
  const policy = known[name];
  if (!policy) throw new RangeError(`unknown preemption policy '${name}'; use one of ${Object.keys(known).join(', ')}`);
  return policy;
}

/** Keeps held leases ordered by when their holds expire (ties: the order they were held). */
function insertByTime(holds: LeaseRecord[], lease: LeaseRecord): void {
  let i = holds.length;
  while (i > 0 && holds[i - 1].heldUntil! > lease.heldUntil!) i--;
  holds.splice(i, 0, lease);
}

/** Where the segments from index i on stop following one another without a gap. */
function contiguousEnd(chain: readonly Segment[], i: number): number {
  let end = chain[i].end;
  for (let k = i + 1; k < chain.length && chain[k].start === end; k++) end = chain[k].end;
  return end;
}

function findLastIndex<T>(xs: readonly T[], p: (x: T) => boolean): number {
  for (let i = xs.length - 1; i >= 0; i--) if (p(xs[i])) return i;
  return -1;
}

function insertSorted(q: LeaseRecord[], lease: LeaseRecord): void {
  let lo = 0;
  let hi = q.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (queueBefore(q[mid], lease)) lo = mid + 1;
    else hi = mid;
  }
  q.splice(lo, 0, lease);
}
