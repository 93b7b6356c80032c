// The control loop: the wall clock drives the same scheduler as the simulator. Every input is
// written to the store before the scheduler hears it; what the scheduler then decides is written
// as lease rows and events, and carried out on the driver by the reconciler. On start, the input
// log is replayed into a fresh scheduler and the drivers' VMs are reconciled with it.

import type { SchedulerConfig } from '../core/config.ts';
import { COST_FIGURE_KEYS, type CostFigures, costFiguresProblem } from '../core/cost-figures.ts';
import type { NodeLoss } from '../core/node-loss.ts';
import { hasEnded, type LeaseRecord } from '../core/lease-record.ts';
import { holdKindRefusal } from '../core/holds.ts';
import { seriesOf } from '../core/periodic.ts';
import { type Quote, quoteOf } from '../core/negotiation.ts';
import { Scheduler, type Decision, type Plan, type StepResult } from '../core/scheduler.ts';
import type { LeaseRequest, NodeSpec } from '../core/types.ts';
import type { EventRow, LeaseRow, NodeRow, Store, Usage } from '../store/store.ts';
import type { Clock } from './clock.ts';
import type { Driver, NodeEstimate } from '../drivers/driver.ts';
import { applyInput, type Applied, type Input, NodeIndex, type Ownership } from './inputs.ts';
import { statusOf, usageOf } from './lease-view.ts';
import { type Ending, leaseRow, type RowSources, sameRow } from './lease-rows.ts';
import { Reconciler } from './reconciler.ts';
import type { RetryPolicy } from './driver-retry.ts';
import { fromCore, type OwnerAction } from './action-checks.ts';
import { done, refuse, type Refusal, type Result } from './refusal.ts';
import { sameRequest } from './same-request.ts';
import { costsProblem, holdProblem, nodeProblem, requestProblem } from './storable.ts';
import { guardStore, StoreUnavailable } from '../store/store-failure.ts';
import { actionBeyondDriver, beyondDriverQuote, configForDriver, requestBeyondDriver } from './driver-fit.ts';
import { scheduleLines } from '../sim/schedule-export.ts';

export interface ServiceOptions {
  store: Store;
  driver: Driver;
  clock: Clock;
  config: SchedulerConfig;
  /** How refused driver calls are retried (driver-retry.ts). */
  driverRetry?: Partial<RetryPolicy>;
}

/** At most this many waiting operations share one transaction. */
const MAX_BATCH = 64;

export interface Created {
  lease: LeaseRow;
  decision: Decision;
  /** The answer remembered for an Idempotency-Key seen before. */
  replayed: boolean;
}

/** A lease refused by the scheduler, with when it could start and what it would accept instead. */
const quoteRefusal = (q: Extract<Quote, { ok: false }>): Refusal =>
  refuse(q.reason, q.message, { earliestStart: q.earliestStart, alternatives: q.alternatives, ...(q.occurrences ? { occurrences: q.occurrences } : {}) });

type Listener = (event: EventRow) => void;

export class LeaseService {
  readonly scheduler: Scheduler;
  readonly nodes = new NodeIndex();
  private readonly owners = new Map<string, Ownership>();
  /** Why leases were stopped from outside the scheduler, from the inputs (so replays know too). */
  private readonly endings = new Map<string, Ending>();
  private readonly rows = new Map<string, LeaseRow>();
  private readonly dirty = new Set<string>();
  private readonly rowSources: RowSources = {
    lease: (id) => this.scheduler.lease(id),
    ownerOf: (id) => this.owners.get(id),
    endingOf: (id) => this.endings.get(id),
    nodeId: (n) => this.nodes.ids[n],
  };
  private readonly listeners = new Set<Listener>();
  private readonly reconciler: Reconciler;
  private readonly waiting: Array<{ fn: () => Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void }> = [];
  private draining: Promise<void> | null = null;
  private cancelTimer: (() => void) | null = null;
  /** Events written in the transaction under way, sent to listeners once it commits. */
  private outbox: EventRow[] | null = null;
  private readonly toReconcile = new Set<LeaseRecord>();
  /** Nodes whose VMs are written off once the transaction that made them unavailable commits. */
  private readonly toWriteOff = new Set<string>();
  /** The reconciler's events, written outside any operation. */
  private readonly eventsInFlight = new Set<Promise<void>>();
  private estimates: ((node: string) => NodeEstimate | null) | null = null;
  private heardInputs = 0;
  private broken: Error | null = null;
  private closed = false;
  private readonly opts: ServiceOptions;

  private constructor(given: ServiceOptions) {
    // The store's failures come out as StoreUnavailable, which the API answers with a 503.
    const opts = { ...given, store: guardStore(given.store) };
    this.opts = opts;
    this.scheduler = new Scheduler([], configForDriver(opts.config, opts.driver.capabilities));
    this.scheduler.trackChanges();
    this.reconciler = new Reconciler(opts.driver, opts.store, {
      leaseById: (id) => this.scheduler.lease(id),
      nodeId: (n) => this.nodes.ids[n],
      vmEndedByItself: (leaseId, detail) => this.reportVmEnd(leaseId, detail),
      migrationFailed: (leaseId, vm) => this.moveBack(leaseId, vm),
      event: (e) => {
        const own = e.leaseId ? this.owners.get(e.leaseId) : undefined;
        const written = this.event({ ...e, owner: own?.owner ?? null, group: own?.group ?? null });
        // Kept until written, so that idle() waits for it.
        this.eventsInFlight.add(written);
        void written.finally(() => this.eventsInFlight.delete(written));
      },
    }, { clock: opts.clock, retry: opts.driverRetry });
  }

  /** Rebuilds the scheduler from the input log, catches up with the clock and reconciles the VMs. */
  static async open(opts: ServiceOptions): Promise<LeaseService> {
    const service = new LeaseService(opts);
    await service.reconciler.observe();
    await service.exclusive(async () => {
      for (const row of await opts.store.inputs()) {
        service.advanceTo(row.time);
        const input = row.data as Input;
        const applied = service.apply(input, row.time);
        if (input.type === 'submit' && input.idempotencyKey) await opts.store.rememberIdempotent(input.owner, input.idempotencyKey, input.request.id, applied.decision);
      }
      for (const l of service.scheduler.allLeases()) service.dirty.add(l.req.id);
      service.advanceTo(opts.clock.now());
      await service.flush();
    });
    // Again after a crash that may have come between logging a node's loss and forgetting its VMs.
    for (const node of await opts.store.listNodes()) if (node.status === 'unavailable') service.reconciler.writeOff(node.id);
    await service.reconciler.reconcileAll(service.scheduler.allLeases());
    service.armTimer();
    return service;
  }

  /** Has every lease's VMs converged again: after a node's agent came back, say. */
  reconcileNow(): Promise<void> {
    return this.reconciler.reconcileAll(this.scheduler.allLeases());
  }

  /**
   * Resolves once the service has nothing of its own left to do: no operation queued or running,
   * no changed lease left unwritten, no event being written and the reconciler idle. What waits
   * for the clock is not pending. Tests wait on this instead of sleeping.
   */
  async idle(): Promise<void> {
    for (;;) {
      if (this.draining) await this.draining;
      else if (this.eventsInFlight.size > 0) await Promise.all(this.eventsInFlight);
      else if (this.reconciler.busy) await this.reconciler.settled();
      // A refusal after the scheduler moved on leaves rows for the next operation to write.
      else if (this.dirty.size > 0 && !this.broken && !this.closed) await this.exclusive(() => this.flush());
      else return;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cancelTimer?.();
    await this.draining;
    await this.reconciler.idle();
    this.reconciler.detach();
  }

  // ---- reads ----

  /** What the scheduler would answer now; it changes no lease. */
  quote(request: LeaseRequest): Promise<Quote> {
    return this.exclusive(async () => {
      const now = await this.syncTo(this.opts.clock.now());
      const beyond = requestBeyondDriver(request, this.opts.driver);
      if (beyond) return beyondDriverQuote(request, beyond);
      return this.scheduler.quote({ ...request, arrival: now }, now);
    });
  }

  ownerOf(id: string): Ownership | undefined {
    return this.owners.get(id);
  }

  /** The schedule export (vws.schedule/v1) of every lease, with the pool's nodes. */
  scheduleExport(): Iterable<string> {
    // A stopped service's scheduler heard inputs the store lost: what it holds is no schedule of the service's.
    if (this.broken) throw this.stopped();
    return scheduleLines(this.scheduler.allLeases(), this.scheduler.table.nodes);
  }

  /** What a lease has used up to now (rows are written on changes, usage grows in between). */
  usageNow(id: string): Usage | null {
    const lease = this.scheduler.lease(id);
    return lease ? usageOf(lease, Math.max(this.opts.clock.now(), this.scheduler.time)) : null;
  }

  /** When a held lease's hold runs out, null if it is not held. */
  heldUntil(id: string): number | null {
    return this.scheduler.lease(id)?.heldUntil ?? null;
  }

  /** Leases holding or planning reservations on a node. */
  leasesOnNode(id: string): string[] {
    const n = this.nodes.of(id);
    return n === undefined ? [] : [...new Set(this.scheduler.table.reservationsOn(n).map((s) => s.leaseId))];
  }

  /** For each node, the fraction of its CPU held by leases now. */
  nodeUtilization(): Array<[string, number]> {
    const table = this.scheduler.table;
    return this.nodes.ids.map((id, n) => [id, table.reservationsOn(n).filter((s) => s.active).reduce((sum, s) => sum + s.cpu, 0) / table.nodes[n].cpu]);
  }

  /** Where measured operation times per node come from, when the nodes run agents. */
  useNodeEstimates(of: (node: string) => NodeEstimate | null): void {
    this.estimates = of;
  }

  /** A node's measured operation times: null if none yet, undefined if the pool does not measure. */
  nodeEstimates(node: string): NodeEstimate | null | undefined {
    return this.estimates ? this.estimates(node) : undefined;
  }

  onEvent(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- inputs ----
  // Each answers an expected "no" as a Refusal; it throws only for bugs and store failures.

  /**
   * Creates a lease if the scheduler would accept it now; otherwise nothing is written and the
   * refusal comes back with the earliest start and alternatives. An Idempotency-Key makes a
   * repeated request return the first answer.
   */
  create(owner: string, group: string | null, request: LeaseRequest, idempotencyKey?: string): Promise<Result<Created>> {
    return this.exclusive(async () => {
      if (idempotencyKey) {
        const seen = await this.opts.store.idempotentResponse(owner, idempotencyKey);
        if (seen) {
          const first = (await this.opts.store.getLease(seen.leaseId))!;
          // A retry gets the first answer; another request under the same key is a client's mistake, not a retry.
          if (first.group !== group || !sameRequest(first.request, request)) {
            return refuse('idempotency-key-reused', `Idempotency-Key '${idempotencyKey}' already made lease '${first.id}' from another request: send a new key for a new request`);
          }
          return done({ lease: first, decision: seen.response as Decision, replayed: true });
        }
      }
      // A best-effort lease is only refused when the pool can never hold it: no need for a full plan.
      const planned = await this.planNow(request, (req) => req.kind === 'best-effort' && this.scheduler.table.openNodesThatFit(req.perNode.cpu, req.perNode.memoryMiB) >= req.nodes);
      if (!planned.ok) return planned;
      const { req, now, plan } = planned;
      // The key travels in the input, so that a crash before it is remembered below is repaired by the replay.
      // The quoted plan is what the scheduler applies (a replay plans again, to the same plan).
      const applied = await this.record({ type: 'submit', owner, group, request: req, ...(idempotencyKey ? { idempotencyKey } : {}) }, now, plan);
      await this.flush();
      if (idempotencyKey) await this.opts.store.rememberIdempotent(owner, idempotencyKey, req.id, applied.decision);
      return done({ lease: this.rows.get(req.id)!, decision: applied.decision!, replayed: false });
    });
  }

  /**
   * The request as it arrives now, and the plan the core makes for it (none where `noPlanNeeded`
   * says the queue will take it), or why it is refused: its id is taken, the driver cannot run it,
   * or the core says no. Nothing is logged.
   */
  private async planNow(request: LeaseRequest, noPlanNeeded: (req: LeaseRequest) => boolean): Promise<{ ok: true; req: LeaseRequest; now: number; plan: Plan | undefined } | Refusal> {
    const taken = requestProblem(request) ?? this.idTaken(request.id);
    if (taken) return taken;
    const now = await this.syncTo(this.opts.clock.now());
    const req = { ...request, arrival: now };
    const beyond = requestBeyondDriver(req, this.opts.driver);
    if (beyond) return quoteRefusal(beyondDriverQuote(req, beyond));
    const plan = noPlanNeeded(req) ? undefined : this.scheduler.plan(req, now, 3);
    if (plan && !plan.ok) return quoteRefusal(quoteOf(plan));
    return { ok: true, req, now, plan };
  }

  hold(owner: string, group: string | null, request: LeaseRequest, ttlSeconds: number): Promise<Result<Created>> {
    return this.exclusive(async () => {
      // Checked before anything is logged (the core refuses these too), with the field at fault.
      const unholdable = fromCore(holdKindRefusal(request.kind), 'body.lease.kind');
      if (unholdable) return unholdable;
      const badTtl = holdProblem(ttlSeconds);
      if (badTtl) return badTtl;
      const planned = await this.planNow(request, () => false);
      if (!planned.ok) return planned;
      const { req, now, plan } = planned;
      const applied = await this.record({ type: 'hold', owner, group, request: req, ttl: ttlSeconds }, now, plan);
      await this.flush();
      return done({ lease: this.rows.get(req.id)!, decision: applied.decision!, replayed: false });
    });
  }

  /** Makes a held lease binding; refused if it is not held (any more). */
  commit(id: string): Promise<Result<Decision>> {
    return this.exclusive(async () => {
      // Checked before logging, as the core would refuse both (not-found, and a refused decision).
      if (!this.scheduler.lease(id)) return refuse('not-found', `no lease '${id}'`);
      const now = await this.syncTo(this.opts.clock.now());
      const lease = this.scheduler.lease(id)!;
      if (lease.heldUntil === null) {
        return refuse('wrong-state', `cannot commit lease '${id}': ${lease.state === 'cancelled' ? 'its hold expired; hold or create it again' : `it is ${this.statusNow(lease)}, not held`}`);
      }
      const applied = await this.record({ type: 'commit', id }, now);
      await this.flush();
      const d = applied.decision!;
      return d.ok ? done(d) : refuse(d.reason, d.message);
    });
  }

  /** Cancels a lease; refused if it had already ended. */
  cancel(id: string, by: string): Promise<Result<void>> {
    return this.exclusive(async () => {
      if (!this.scheduler.lease(id)) return refuse('not-found', `no lease '${id}'`);
      const now = await this.syncTo(this.opts.clock.now());
      const lease = this.scheduler.lease(id)!;
      if (hasEnded(lease)) return refuse('wrong-state', `lease '${id}' has already ended (${this.statusNow(lease)}); there is nothing to cancel`);
      await this.record({ type: 'cancel', id, by }, now);
      await this.flush();
      return done(undefined);
    });
  }

  /**
   * What an owner does to a running lease: stop it (its work is done), suspend it until it is
   * resumed, or resume it. Refused with a reason when the lease is not in a state to allow it.
   */
  act(id: string, action: OwnerAction): Promise<Result<void>> {
    return this.exclusive(async () => {
      const now = await this.syncTo(this.opts.clock.now());
      if (!this.scheduler.lease(id)) return refuse('not-found', `no lease '${id}'`);
      // Checked first, so that a refused action is not written to the log.
      const beyond = action === 'suspend' ? actionBeyondDriver('suspend', this.opts.driver) : null;
      if (beyond) return refuse('unsupported', `lease '${id}' cannot be suspended: ${beyond}`);
      // The owner's stop is the core's finish: the lease's work is done.
      const input = action === 'stop' ? 'finish' : action;
      const refusal = fromCore(this.scheduler.ownerActionRefusal(id, input));
      if (refusal) return refusal;
      await this.record({ type: input, id }, now);
      await this.flush();
      return done(undefined);
    });
  }

  /** An administrator moves a running lease to the named nodes, live where the driver can. */
  migrate(id: string, to: string[]): Promise<Result<void>> {
    return this.exclusive(async () => {
      const now = await this.syncTo(this.opts.clock.now());
      if (!this.scheduler.lease(id)) return refuse('not-found', `no lease '${id}'`);
      const unknown = to.find((n) => this.nodes.of(n) === undefined);
      if (unknown !== undefined) return refuse('unknown-node', `no node '${unknown}' in the pool: name nodes of GET /v1/nodes`, { path: 'body.nodes' });
      const beyond = actionBeyondDriver('migrate-live', this.opts.driver);
      if (beyond) return refuse('unsupported', `lease '${id}' cannot move while it runs: ${beyond}`);
      const nodes = to.map((n) => this.nodes.of(n)!);
      // Checked first: an input the scheduler refuses must never reach the log.
      const refusal = fromCore(this.scheduler.liveMigrationRefusal(id, nodes, now), 'body.nodes');
      if (refusal) return refusal;
      await this.record({ type: 'migrate', id, to }, now);
      await this.flush();
      return done(undefined);
    });
  }

  addNode(spec: NodeSpec): Promise<Result<NodeRow>> {
    return this.exclusive(async () => {
      const unstorable = nodeProblem(spec);
      if (unstorable) return unstorable;
      const existing = await this.opts.store.getNode(spec.id);
      if (existing?.status === 'removed') return refuse('already-exists', `node '${spec.id}' was removed; node ids are not reused: give it a new id`);
      if (existing || this.nodes.of(spec.id) !== undefined) return refuse('already-exists', `node '${spec.id}' is already in the pool (${existing?.status ?? 'active'})`);
      const now = await this.syncTo(this.opts.clock.now());
      await this.record({ type: 'node-add', node: spec }, now);
      const row: NodeRow = { id: spec.id, cpu: spec.cpu, memoryMiB: spec.memoryMiB, diskMiB: spec.diskMiB, status: 'active', addedAt: now };
      await this.opts.store.putNode(row);
      await this.event({ time: now, type: 'node.added', leaseId: null, owner: null, group: null, data: row });
      await this.flush();
      return done(row);
    });
  }

  /** Drains a node: no new leases there. Answers the leases that still plan to come to it. */
  drainNode(id: string): Promise<Result<{ requeued: string[]; stillPlanned: string[] }>> {
    return this.exclusive(async () => {
      // Checked before logging: the core refuses a node it does not have (not-found). An id the pool never had is not looked up in the store.
      const n = this.nodes.of(id);
      const row = n === undefined ? null : await this.opts.store.getNode(id);
      if (!row || row.status === 'removed' || n === undefined) return refuse('not-found', `no node '${id}' in the pool`);
      const now = await this.syncTo(this.opts.clock.now());
      const drained = this.scheduler.nodeIsDrained(n);
      const applied = drained ? { drained: { requeued: [], stillPlanned: [] }, leases: [] } : await this.record({ type: 'node-drain', id }, now);
      // An unavailable node shows that first; it comes back as draining.
      if (row.status !== 'unavailable') await this.opts.store.putNode({ ...row, status: 'draining' });
      await this.event({ time: now, type: 'node.draining', leaseId: null, owner: null, group: null, data: { id, ...applied.drained } });
      await this.flush();
      return done(applied.drained!);
    });
  }

  /** Removes a drained node once nothing runs or is planned there. */
  removeNode(id: string): Promise<Result<void>> {
    return this.exclusive(async () => {
      const n = this.nodes.of(id);
      const row = n === undefined ? null : await this.opts.store.getNode(id);
      if (!row || n === undefined || row.status === 'removed') return refuse('not-found', `no node '${id}' in the pool`);
      if (!this.scheduler.nodeIsDrained(n)) return refuse('wrong-state', `node '${id}' is ${row.status}: drain it first`);
      await this.syncTo(this.opts.clock.now());
      if (!this.scheduler.nodeIsIdle(n)) return refuse('node-busy', `node '${id}' still holds leases: wait until they end, or cancel them`);
      await this.opts.store.putNode({ ...row, status: 'removed' });
      await this.event({ time: this.opts.clock.now(), type: 'node.removed', leaseId: null, owner: null, group: null, data: { id } });
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
  markNodeUnavailable(id: string): Promise<NodeLoss | null> {
    return this.exclusive(async () => {
      const row = await this.opts.store.getNode(id);
      // The core refuses a node it does not have (not-found); a logged input must never be refused.
      if (!row || row.status === 'removed' || this.nodes.of(id) === undefined) return null;
      if (row.status === 'unavailable') return null;
      const now = await this.syncTo(this.opts.clock.now());
      const loss = (await this.record({ type: 'node-unavailable', id }, now)).loss!;
      await this.opts.store.putNode({ ...row, status: 'unavailable' });
      await this.event({ time: now, type: 'node.unavailable', leaseId: null, owner: null, group: null, data: { id, was: row.status, ...loss } });
      for (const leaseId of [...loss.restarted, ...loss.requeued]) {
        const own = this.owners.get(leaseId);
        const workLost = loss.restarted.includes(leaseId);
        const message = workLost
          ? `node '${id}' became unavailable with the lease's VMs on it: the lease is back in the queue and starts again from the beginning on other nodes`
          : `node '${id}', where the lease was to run, became unavailable: the lease is back in the queue`;
        await this.event({ time: now, type: 'lease.requeued', leaseId, owner: own?.owner ?? null, group: own?.group ?? null, data: { node: id, workLost, message } });
      }
      this.toWriteOff.add(id);
      await this.flush();
      return loss;
    });
  }

  /**
   * The node's agent is back: the node takes new work again (or, if it was drained meanwhile,
   * drains). False if it was not unavailable.
   */
  markNodeAvailable(id: string): Promise<boolean> {
    return this.exclusive(async () => {
      const row = await this.opts.store.getNode(id);
      const n = this.nodes.of(id);
      if (!row || row.status !== 'unavailable' || n === undefined) return false;
      const now = await this.syncTo(this.opts.clock.now());
      await this.record({ type: 'node-available', id }, now);
      const status = this.scheduler.nodeIsDrained(n) ? 'draining' : 'active';
      await this.opts.store.putNode({ ...row, status });
      await this.event({ time: now, type: 'node.available', leaseId: null, owner: null, group: null, data: { id, status } });
      await this.flush();
      return true;
    });
  }

  /** Has the scheduler plan with figures measured on the pool from now on (see Scheduler.setCosts). */
  setMeasuredCosts(given: CostFigures): Promise<Result<void>> {
    return this.exclusive(async () => {
      const figures: CostFigures = Object.fromEntries(COST_FIGURE_KEYS.filter((k) => given[k] !== undefined).map((k) => [k, given[k]]));
      // The core refuses these figures too (invalid); checked first, since an input the core refuses must never reach the log.
      const problem = costFiguresProblem(figures);
      if (problem) return refuse('invalid-request', `measured costs: ${problem}`);
      const unstorable = costsProblem(figures);
      if (unstorable) return unstorable;
      const now = await this.syncTo(this.opts.clock.now());
      await this.record({ type: 'costs', ...figures }, now);
      await this.event({ time: now, type: 'pool.costs', leaseId: null, owner: null, group: null, data: figures });
      await this.flush();
      return done(undefined);
    });
  }

  /** A request id names one lease for ever: a second lease under it would be refused by the scheduler. */
  private idTaken(id: string): Refusal | null {
    // The core refuses an id it has seen (duplicate); checked before the request is logged.
    return this.scheduler.lease(id) ? refuse('already-exists', `lease id '${id}' is taken: send the request under a new id`) : null;
  }

  /** A lease's status as its owner is to read it now (its row may lag by one transaction). */
  private statusNow(lease: LeaseRecord): string {
    return this.endings.get(lease.req.id)?.status ?? statusOf(lease);
  }

  // ---- the loop ----

  /**
   * Runs fn alone (inputs and clock steps never interleave), and with every store write it makes
   * in one transaction: an input, the rows and events it leads to and its idempotency key are kept
   * together or not at all. Operations that wait while one runs are run together next, one after
   * another in a single transaction (a group commit: one disk flush for many decisions). Events
   * reach listeners, and the driver hears of decisions, only once committed. If the store fails
   * after the scheduler has heard an input, the two no longer agree: the service stops taking
   * requests until it is restarted (and replays).
   */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.draining) return;
    // Waiting one turn of the event loop lets every request already read from the sockets join
    // the batch: started at once, a batch would hold only the request that woke it.
    this.draining = new Promise((turn) => setImmediate(turn)).then(() => this.drain()).finally(() => {
      this.draining = null;
      // An operation may have arrived after the loop looked for more, and before this ran.
      if (this.waiting.length > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, MAX_BATCH);
      if (this.broken) {
        for (const op of batch) op.reject(this.stopped());
        continue;
      }
      const heard = this.heardInputs;
      const outcomes: unknown[] = [];
      this.outbox = [];
      try {
        // A refusal is a value: it commits what came before it, such as a tick the scheduler heard.
        await this.opts.store.transaction(async () => {
          for (const op of batch) outcomes.push(await op.fn());
        });
        for (const e of this.outbox) this.emit(e);
        // Before any lease is reconciled: a lease moved off a lost node must not be looked for there.
        for (const node of this.toWriteOff) this.reconciler.writeOff(node);
        this.reconciler.reconcile([...this.toReconcile]);
        batch.forEach((op, k) => op.resolve(outcomes[k]));
      } catch (e) {
        if (this.heardInputs !== heard) this.broken = e as Error;
        for (const op of batch) op.reject(e);
      } finally {
        this.outbox = null;
        this.toReconcile.clear();
        this.toWriteOff.clear();
      }
    }
  }

  /** Why the service takes nothing more, once broken. */
  private stopped(): Error {
    const broken = this.broken!;
    const message = `the service stopped after a failure (${broken.message}); restart it: it replays its log`;
    return broken instanceof StoreUnavailable ? new StoreUnavailable(message, broken, true) : new Error(message, { cause: broken });
  }

  /**
   * Brings the scheduler to exactly `now`: its events up to then, and an advance at `now` itself,
   * which is logged (a 'tick') so that a replay advances at the same instants.
   */
  private async syncTo(now: number): Promise<number> {
    const t = Math.max(now, this.scheduler.time);
    this.advanceTo(t);
    if (this.scheduler.time < t) await this.record({ type: 'tick' }, t);
    return t;
  }

  /** Applies every scheduler event up to `t`, in order. */
  private advanceTo(t: number): void {
    for (let e = this.scheduler.nextEventTime(); e <= t; e = this.scheduler.nextEventTime()) {
      this.noteStep(this.scheduler.advance(e));
    }
  }

  private apply(input: Input, now: number, plan?: Plan): Applied {
    if (this.scheduler.time < now) this.noteStep(this.scheduler.advance(now));
    const applied = applyInput(this.scheduler, this.nodes, this.owners, input, now, plan);
    this.noteStep(applied.step);
    if (input.type === 'fail') this.endings.set(input.id, { status: 'failed', code: 'vm-failed', message: input.detail });
    if (input.type === 'cancel') this.endings.set(input.id, { status: 'cancelled', code: 'cancelled', message: `cancelled by ${input.by}` });
    for (const id of applied.leases) this.markDirty(id);
    return applied;
  }

  /** Writes the input to the store, then lets the scheduler hear it. */
  private async record(input: Input, now: number, plan?: Plan): Promise<Applied> {
    await this.opts.store.appendInput({ time: now, type: input.type, data: input });
    this.heardInputs++;
    try {
      return this.apply(input, now, plan);
    } catch (e) {
      // An input the scheduler throws out must not stay in the log (a replay would stop on it): the
      // transaction rolls back, and the service, whose scheduler may be half-changed, stops.
      this.broken = e as Error;
      throw new Error(`internal: the scheduler refused a recorded ${input.type} (${(e as Error).message})`, { cause: e });
    }
  }

  /**
   * The core names every lease whose record changed, whoever's input changed it: a lease preempted
   * by another's reservation, moved by a node's loss, an occurrence of a series. Their rows are
   * written anew, as a replay writes every row.
   */
  private noteStep(step: StepResult): void {
    for (const l of step.changed) this.markDirty(l.req.id);
  }

  private markDirty(id: string): void {
    this.dirty.add(id);
    const parent = seriesOf(id);
    if (parent && this.scheduler.lease(parent)) this.dirty.add(parent);
  }

  /** Writes the rows of the leases that changed, their events, and has their VMs reconciled. */
  private async flush(): Promise<void> {
    const now = Math.max(this.opts.clock.now(), this.scheduler.time);
    const changed: LeaseRecord[] = [];
    for (const id of this.dirty) {
      const lease = this.scheduler.lease(id);
      if (!lease) continue;
      const before = this.rows.get(id) ?? (await this.opts.store.getLease(id));
      const row = leaseRow(lease, this.rowSources, before, now);
      if (before && sameRow(before, row)) {
        this.rows.set(id, before);
        continue;
      }
      this.rows.set(id, row);
      await this.opts.store.putLease(row);
      if (!before || before.status !== row.status) {
        await this.event({ time: now, type: 'lease.status', leaseId: id, owner: row.owner, group: row.group, data: { from: before?.status ?? null, to: row.status, reason: row.reason } });
      }
      changed.push(lease);
    }
    this.dirty.clear();
    // The driver acts only on what has been committed: the reconciler is woken after the transaction.
    for (const l of changed) this.toReconcile.add(l);
    this.armTimer();
  }

  private async event(e: Omit<EventRow, 'id'>): Promise<void> {
    const id = await this.opts.store.appendEvent(e);
    if (this.outbox) this.outbox.push({ ...e, id });
    else this.emit({ ...e, id });
  }

  private emit(e: EventRow): void {
    for (const l of this.listeners) l(e);
  }

  private armTimer(): void {
    this.cancelTimer?.();
    if (this.closed) return;
    const next = this.scheduler.nextEventTime();
    if (next === Infinity) return;
    this.cancelTimer = this.opts.clock.at(next, () => {
      void this.exclusive(async () => {
        this.advanceTo(this.opts.clock.now());
        await this.flush();
      });
    });
  }

  /**
   * A live migration failed and the VM runs on at its source: the lease is moved back there, as an
   * administrator's migration would move it (the same input, so a replay agrees), once the core
   * takes it (not at the instant the run it leaves began), and if the source still has room.
   * Otherwise the lease stays planned where it was going, and the reconciler tries again.
   */
  private moveBack(leaseId: string, vm: { index: number; from: string }): void {
    void this.exclusive(async () => {
      const now = await this.syncTo(this.opts.clock.now());
      const run = this.scheduler.lease(leaseId)?.chain.find((s) => s.kind === 'run' && s.active);
      const from = this.nodes.of(vm.from);
      if (!run || from === undefined || run.nodes[vm.index] === from) return;
      if (run.start >= now) {
        this.opts.clock.at(run.start + 1, () => {
          if (!this.closed) this.moveBack(leaseId, vm);
        });
        return;
      }
      const to = run.nodes.map((n, k) => (k === vm.index ? from : n));
      if (this.scheduler.liveMigrationRefusal(leaseId, to, now)) return;
      await this.record({ type: 'migrate', id: leaseId, to: to.map((n) => this.nodes.ids[n]) }, now);
      await this.flush();
    });
  }

  /** A lease's VM stopped or failed by itself: its work is done if it was running, else it failed. */
  private reportVmEnd(leaseId: string, detail: { failed: boolean; message: string }): void {
    void this.exclusive(async () => {
      const now = await this.syncTo(this.opts.clock.now());
      const lease = this.scheduler.lease(leaseId);
      if (!lease || hasEnded(lease)) return;
      const running = lease.chain.some((s) => s.active && s.kind === 'run');
      if (running && !detail.failed) await this.record({ type: 'finish', id: leaseId }, now);
      else await this.record({ type: 'fail', id: leaseId, detail: detail.message }, now);
      await this.flush();
    });
  }
}
