// The control loop: the wall clock drives the same scheduler as the simulator. Every input is written to the store
// before the scheduler hears it; what the scheduler then decides is written as lease rows and events, and carried
// out on the driver by the reconciler. On start, the input log is replayed into a fresh scheduler and the drivers'
// VMs are reconciled with it. The operations that make inputs (lease-service.ts, pool-inputs.ts) run through `exclusive`.

import type { LeaseRecord } from '../core/lease-record.ts';
import { seriesOf } from '../core/periodic.ts';
import type { ChangePlan, Plan, StepResult } from '../core/scheduler.ts';
import { Backends } from '../core/backends.ts';
import { type BurstPolicy, DEFAULT_BURST_POLICY } from '../core/bursting.ts';
import type { EventRow, Store } from '../store/store.ts';
import type { Clock } from './clock.ts';
import type { Driver } from '../drivers/driver.ts';
import { applyInput, type Applied, type Input, NodeIndex, type Ownership, ownershipOf } from './inputs.ts';
import { statusOf } from './lease-view.ts';
import { type Ending, leaseRow, type RowSources, sameRow } from './lease-rows.ts';
import { Reconciler } from './reconciler.ts';
import { ReconcilePasses } from './reconcile-passes.ts';
import { IdempotencyKeys, WrittenRows } from './written-rows.ts';
import { moveBack, reportVmEnd } from './vm-reports.ts';
import { guardStore, StoreUnavailable } from '../store/store-failure.ts';
import { configForDriver, fixedForDriver } from './driver-fit.ts';
import { refusesMove, type ServiceBackend, siteDriver } from './service-backend.ts';
import type { ServiceOptions } from './service-options.ts';
import { SiteTerms } from './site-terms.ts';
import { AccountTallies } from './account-tally.ts';
import { announcePreemptions } from './preemption-notices.ts';
import { chargeOf } from './prices.ts';

/** At most this many waiting operations share one transaction. */ const MAX_BATCH = 64;

type Listener = (event: EventRow) => void;

export class ControlLoop {
  readonly scheduler: Backends;
  readonly backends: readonly ServiceBackend[];
  readonly burst: BurstPolicy;
  readonly terms: SiteTerms;
  /** What each group and owner holds and has promised, for admission (allocations.ts). */
  readonly tallies: AccountTallies;
  readonly nodes = new NodeIndex();
  readonly owners = new Map<string, Ownership>();
  /** Why leases were stopped from outside the scheduler, from the inputs (so replays know too). */
  private readonly endings = new Map<string, Ending>();
  /** Each lease's row as last written, and each Idempotency-Key's first answer. */
  readonly rows = new WrittenRows();
  readonly keys: IdempotencyKeys;
  private readonly dirty = new Set<string>();
  private readonly rowSources: RowSources = {
    lease: (id) => this.scheduler.lease(id),
    ownerOf: (id) => ownershipOf(this.owners, id),
    endingOf: (id) => this.endings.get(id),
    nodeId: (n) => this.nodes.ids[n],
    backendOf: (id) => this.scheduler.leaseBackend(id) ?? this.scheduler.names[0],
    chargeOf: (req, usage) => chargeOf(req, usage, this.terms.current, this.backendOf(req.id).billing),
  };
  private readonly listeners = new Set<Listener>();
  private readonly reconciler: Reconciler;
  private readonly passes: ReconcilePasses;
  private readonly waiting: Array<{ fn: () => Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void }> = [];
  private draining: Promise<void> | null = null;
  private cancelTimer: (() => void) | null = null;
  /** Events written in the transaction under way, sent to listeners once it commits (a store may give their ids only then). */
  private outbox: Array<{ event: Omit<EventRow, 'id'>; id: Promise<number> }> | null = null;
  private readonly toReconcile = new Set<LeaseRecord>();
  /** Nodes whose VMs are written off once the transaction that made them unavailable commits. */
  private readonly toWriteOff = new Set<string>();
  /** The reconciler's events, written outside any operation. */
  private readonly eventsInFlight = new Set<Promise<void>>();
  private heardInputs = 0;
  private broken: Error | null = null;
  private closed = false;
  get isClosed(): boolean { return this.closed; }
  readonly store: Store;
  readonly driver: Driver;
  readonly clock: Clock;

  constructor(given: ServiceOptions) {
    // The store's failures come out as StoreUnavailable, which the API answers with a 503.
    const opts = { ...given, store: guardStore(given.store) };
    this.store = opts.store;
    this.keys = new IdempotencyKeys(this.store);
    this.clock = opts.clock;
    this.burst = opts.burst ?? DEFAULT_BURST_POLICY;
    this.terms = new SiteTerms(opts.config, () => this.tallies.reprice());
    this.tallies = new AccountTallies({ owners: this.owners, allLeases: () => this.scheduler.allLeases(), terms: () => this.terms.current, billingOf: (id) => this.backendOf(id).billing });
    this.backends = opts.backends ?? (opts.driver ? [{ name: opts.driver.name, driver: opts.driver }] : []);
    // Every back-end steps at every logged instant, so that a replay steps them alike.
    this.scheduler = new Backends(this.backends.map((b) => ({
      name: b.name, config: configForDriver({ ...opts.config, ...b.config }, b.driver.capabilities), fixed: { ...b.config, ...fixedForDriver(b.driver.capabilities) },
    })), [], {}, true);
    this.scheduler.trackChanges();
    this.scheduler.setMoveRule((req, name) => refusesMove(this.backends, this.owners.get(req.id), req, name));
    this.driver = siteDriver(this.backends, {
      backendOfNode: (node) => this.backendOfNode(node),
      backendOfVm: (vmId) => this.scheduler.leaseBackend(vmId.slice(0, vmId.lastIndexOf('/'))),
    });
    this.reconciler = new Reconciler(this.driver, opts.store, {
      leaseById: (id) => this.scheduler.lease(id),
      nodeId: (n) => this.nodes.ids[n],
      vmEndedByItself: (leaseId, detail) => reportVmEnd(this, leaseId, detail),
      migrationFailed: (leaseId, vm) => moveBack(this, leaseId, vm),
      event: (e) => {
        const own = e.leaseId ? this.owners.get(e.leaseId) : undefined;
        // An event the store refuses (it failed, or this server no longer leads) is lost with it, never unhandled.
        const written = this.event({ ...e, owner: own?.owner ?? null, group: own?.group ?? null }).catch(() => {});
        // Kept until written, so that idle() waits for it.
        this.eventsInFlight.add(written);
        void written.finally(() => this.eventsInFlight.delete(written));
      },
    }, { clock: opts.clock, retry: opts.driverRetry });
    this.passes = new ReconcilePasses(this.reconciler, () => this.scheduler.allLeases());
  }

  /** The back-end that holds a node, by its id. */
  backendOfNode(id: string): string | undefined {
    const n = this.nodes.of(id);
    return n === undefined ? undefined : this.scheduler.nodeBackend(n);
  }

  /** The back-end a lease lives on, or (for a request) would go to. */
  backendOf(leaseOrRequest: string | { backend?: string }): ServiceBackend {
    const name = typeof leaseOrRequest === 'string' ? this.scheduler.leaseBackend(leaseOrRequest) : this.scheduler.backendOf(leaseOrRequest);
    return this.backends.find((b) => b.name === name) ?? this.backends[0];
  }

  /** Rebuilds the scheduler from the input log, catches up with the clock and reconciles the VMs. */
  async replay(): Promise<void> {
    await this.reconciler.observe();
    await this.exclusive(async () => {
      for (const row of await this.store.inputs()) {
        this.advanceTo(row.time);
        const input = row.data as Input;
        const applied = this.apply(input, row.time);
        if (input.type === 'submit' && input.idempotencyKey) await this.keys.remember(input.owner, input.idempotencyKey, input.request.id, applied.decision);
      }
      for (const l of this.scheduler.allLeases()) this.dirty.add(l.req.id);
      this.advanceTo(this.clock.now());
      await this.rows.readAll(this.store, (id) => this.scheduler.lease(id) !== undefined);
      await this.flush();
    });
    // Again after a crash that may have come between logging a node's loss and forgetting its VMs.
    for (const node of await this.store.listNodes()) if (node.status === 'unavailable') this.reconciler.writeOff(node.id);
    await this.reconciler.reconcileAll(this.scheduler.allLeases());
    this.armTimer();
  }

  /**
   * Has every lease's VMs converged again, or (given a node) those with a VM on the node or wanted
   * there: after its agent came back, say. Passes asked for together are shared (ReconcilePasses).
   */
  reconcileNow(node?: string): Promise<void> {
    return node === undefined ? this.passes.all() : this.passes.node(node);
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

  onEvent(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Why the service takes nothing more; null while it runs. */
  get stoppedBy(): Error | null {
    return this.broken ? this.stopped() : null;
  }

  /** Has the node's VMs written off once the transaction that made it unavailable commits. */
  writeOffOnCommit(node: string): void {
    this.toWriteOff.add(node);
  }

  /** A lease's status as its owner is to read it now (its row may lag by one transaction). */
  statusNow(lease: LeaseRecord): string {
    return this.endings.get(lease.req.id)?.status ?? statusOf(lease);
  }

  /**
   * Runs fn alone (inputs and clock steps never interleave), and with every store write it makes
   * in one transaction: an input, the rows and events it leads to and its idempotency key are kept
   * together or not at all. Operations that wait while one runs are run together next, one after
   * another in a single transaction (a group commit: one disk flush for many decisions). Events
   * reach listeners, and the driver hears of decisions, only once committed. If the store fails
   * after the scheduler has heard an input, the two no longer agree: the service stops taking
   * requests until it is restarted (and replays).
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
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
        const ids = await this.store.transaction(async () => {
          for (const op of batch) outcomes.push(await op.fn());
          // Inside the transaction: what the store held back goes out now, and a failure undoes it all.
          return Promise.all(this.outbox!.map((o) => o.id));
        });
        this.outbox.forEach((o, k) => this.emit({ ...o.event, id: ids[k] }));
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
  async syncTo(now: number): Promise<number> {
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

  private apply(input: Input, now: number, plan?: Plan | ChangePlan): Applied {
    if (this.scheduler.time < now) this.noteStep(this.scheduler.advance(now));
    const applied = applyInput(this.scheduler, this.nodes, this.owners, input, now, plan);
    this.noteStep(applied.step);
    if (input.type === 'fail') this.endings.set(input.id, { status: 'failed', code: 'vm-failed', message: input.detail });
    if (input.type === 'terms') this.terms.took(input.terms, input.by, now);
    if (input.type === 'cancel') this.endings.set(input.id, { status: 'cancelled', code: 'cancelled', message: `cancelled by ${input.by}` });
    for (const id of applied.leases) this.markDirty(id);
    return applied;
  }

  /** Writes the input to the store, then lets the scheduler hear it. */
  async record(input: Input, now: number, plan?: Plan | ChangePlan): Promise<Applied> {
    await this.store.appendInput({ time: now, type: input.type, data: input });
    this.heardInputs++;
    let applied: Applied;
    try {
      applied = this.apply(input, now, plan);
    } catch (e) {
      // An input the scheduler throws out must not stay in the log (a replay would stop on it): the
      // transaction rolls back, and the service, whose scheduler may be half-changed, stops.
      this.broken = e as Error;
      throw new Error(`internal: the scheduler refused a recorded ${input.type} (${(e as Error).message})`, { cause: e });
    }
    await announcePreemptions(this, applied, now);
    return applied;
  }

  /**
   * The core names every lease whose record changed, whoever's input changed it: a lease preempted
   * by another's reservation, moved by a node's loss, an occurrence of a series. Their rows are
   * written anew, as a replay writes every row.
   */
  private noteStep(step: StepResult): void {
    for (const l of step.changed) this.markDirty(l.req.id);
    this.tallies.observe(step.changed);
  }

  private markDirty(id: string): void {
    this.dirty.add(id);
    const parent = seriesOf(id);
    if (parent && this.scheduler.lease(parent)) this.dirty.add(parent);
  }

  /** Writes the rows of the leases that changed, their events, and has their VMs reconciled. */
  async flush(): Promise<void> {
    const now = Math.max(this.clock.now(), this.scheduler.time);
    const changed: LeaseRecord[] = [];
    for (const id of this.dirty) {
      const lease = this.scheduler.lease(id);
      if (!lease) continue;
      const before = await this.rows.before(id, this.store);
      const row = leaseRow(lease, this.rowSources, before, now);
      if (before && sameRow(before, row)) {
        this.rows.set(id, before);
        continue;
      }
      this.rows.set(id, row);
      await this.store.putLease(row);
      if (!before || before.status !== row.status) {
        await this.event({ time: now, type: 'lease.status', leaseId: id, owner: row.owner, group: row.group, data: { from: before?.status ?? null, to: row.status, reason: row.reason } });
        // Its owner is told what it may take instead, and until when (core/renegotiation.ts).
        if (row.status === 'renegotiating') {
          await this.event({ time: now, type: 'lease.renegotiating', leaseId: id, owner: row.owner, group: row.group, data: { reason: row.reason, offers: lease.offers ?? [], until: lease.renegotiateUntil } });
        }
      }
      changed.push(lease);
    }
    this.dirty.clear();
    // The driver acts only on what has been committed: the reconciler is woken after the transaction.
    for (const l of changed) this.toReconcile.add(l);
    this.armTimer();
  }

  async event(e: Omit<EventRow, 'id'>): Promise<void> {
    // Not waited on in a transaction: it goes out with the rest of the batch.
    if (this.outbox) {
      const id = this.store.appendEvent(e);
      // A store that writes at once may have failed already: that failure is the batch's, read at its end, never unhandled.
      if (id instanceof Promise) id.catch(() => {});
      return void this.outbox.push({ event: e, id });
    }
    this.emit({ ...e, id: await this.store.appendEvent(e) });
  }

  private emit(e: EventRow): void {
    for (const l of this.listeners) l(e);
  }

  private armTimer(): void {
    this.cancelTimer?.();
    if (this.closed) return;
    const next = this.scheduler.nextEventTime();
    if (next === Infinity) return;
    this.cancelTimer = this.clock.at(next, () => this.inBackground(async () => {
      this.advanceTo(this.clock.now());
      await this.flush();
    }));
  }

  /**
   * An operation nobody waits on (a clock step, a VM's report). Its failure is the service's, not
   * an unhandled rejection: if the scheduler heard an input the store lost, the service stops and
   * says so (stoppedBy); otherwise the rows it left unwritten go out with the next operation.
   */
  inBackground(fn: () => Promise<unknown>): void {
    this.exclusive(fn).catch(() => {});
  }
}
