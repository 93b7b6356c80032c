// What clients and the API ask of the service: quotes, leases made, held, committed, cancelled, acted on, what the
// pool does and its own changes (pool-inputs.ts). Every input runs through the control loop, which logs it first.

import { hasEnded } from '../core/lease-record.ts';
import { holdKindRefusal, tooLateToHold } from '../core/holds.ts';
import { type Quote, quoteOf } from '../core/negotiation.ts';
import type { Decision, Plan } from '../core/scheduler.ts';
import type { Backends } from '../core/backends.ts';
import type { LeaseRequest } from '../core/types.ts';
import type { EventRow, LeaseRow, Usage } from '../store/store.ts';
import type { NodeIndex, Ownership } from './inputs.ts';
import { meteredUsage } from '../core/metering.ts';
import { fromCore, type OwnerAction } from './action-checks.ts';
import { type BackendQuote, done, refuse, type Refusal, type RefusalCode, type Result } from './refusal.ts';
import { sameRequest } from './same-request.ts';
import { holdProblem, requestProblem } from './storable.ts';
import { actionBeyondDriver } from './driver-fit.ts';
import { chooseFor } from './backend-choice.ts';
import { backendList, type BackendList } from './backend-list.ts';
import { chargeOf, type Price, priceOf, type SitePrices, sitePrices } from './prices.ts';
import type { Terms } from '../core/terms.ts';
import { admissionRefusal, holdTermsCheck, setTerms } from './terms-inputs.ts';
import type { TermsInForce } from './site-terms.ts';
import { type Statement, statementOf } from './statements.ts';
import type { Period } from '../core/accounts.ts';
import type { LeaseOwner } from '../drivers/plugin.ts';
import { scheduleLines } from '../sim/schedule-export.ts';
import { ControlLoop } from './control-loop.ts';
import type { ServiceOptions } from './service-options.ts';
import { PoolService } from './pool-service.ts';
import { type ChangeAnswer, changeLease, type LeaseChange, quoteChange } from './lease-changes.ts';

export type { ServiceOptions } from './service-options.ts';

/** A quote, with the back-end it is for and, on a site of several, every back-end's option. */
export type QuoteWithOptions = (Quote | TermsQuote) & { backend: string; burst?: { backend: string; at: number }; options?: BackendQuote[]; price?: Price | null };

/** A request the site's terms refuse (its kind, a quota, an allocation), as a quote: the rule, and the nearest request they take. */
type TermsQuote = Omit<Extract<Quote, { ok: false }>, 'reason'> & { reason: RefusalCode; rule?: string; alternative?: LeaseRequest };

export interface Created {
  lease: LeaseRow;
  decision: Decision;
  /** The answer remembered for an Idempotency-Key seen before. */
  replayed: boolean;
}

/** A lease refused by the scheduler, with when it could start and what it would accept instead. */
const quoteRefusal = (q: Extract<Quote, { ok: false }>): Refusal =>
  refuse(q.reason, q.message, { earliestStart: q.earliestStart, alternatives: q.alternatives, ...(q.occurrences ? { occurrences: q.occurrences } : {}) });

export class LeaseService {
  private readonly loop: ControlLoop;
  /** The pool's nodes: what joins, drains, leaves and is lost, and what is known of each (pool-service.ts). */
  readonly pool: PoolService;

  private constructor(opts: ServiceOptions) {
    this.loop = new ControlLoop(opts);
    this.pool = new PoolService(this.loop);
  }

  /** Rebuilds the scheduler from the input log, catches up with the clock and reconciles the VMs. */
  static async open(opts: ServiceOptions): Promise<LeaseService> {
    const service = new LeaseService(opts);
    await service.loop.replay();
    return service;
  }

  get scheduler(): Backends { return this.loop.scheduler; }

  get nodes(): NodeIndex { return this.loop.nodes; }

  /** Has every lease's VMs converged again, or those of one node: after its agent came back, say. */
  reconcileNow(node?: string): Promise<void> {
    return this.loop.reconcileNow(node);
  }

  /** Resolves once the service has nothing of its own left to do (ControlLoop.idle); tests wait on this instead of sleeping. */
  idle(): Promise<void> {
    return this.loop.idle();
  }

  close(): Promise<void> {
    return this.loop.close();
  }

  onEvent(listener: (event: EventRow) => void): () => void {
    return this.loop.onEvent(listener);
  }

  /** Adds an event to a lease's stream, seen by whoever sees the lease (its context settling, say). */
  leaseEvent(leaseId: string, type: string, data: unknown): Promise<void> {
    const own = this.loop.owners.get(leaseId);
    return this.loop.event({ time: this.loop.clock.now(), type, leaseId, owner: own?.owner ?? null, group: own?.group ?? null, data });
  }

  // ---- reads ----

  /**
   * What the scheduler would answer now; it changes no lease. On a site of several back-ends, the
   * answer is the back-end the site's policy takes, with every back-end's option beside it. `who`:
   * whose lease it would be, for back-ends that admit by account (none: an owner with no account).
   */
  quote(request: LeaseRequest, who: { owner: string; group: string | null } = { owner: '', group: null }): Promise<QuoteWithOptions> {
    return this.loop.exclusive(async () => {
      const now = await this.loop.syncTo(this.loop.clock.now());
      const req = { ...request, arrival: now };
      const terms = this.loop.terms.current;
      const price = priceOf(req, terms, this.loop.backendOf(req).billing);
      const byTerms = await admissionRefusal(this.loop, req, who.owner, who.group, now);
      if (byTerms) {
        const { code, message, rule, alternative } = byTerms;
        return { ok: false, leaseId: req.id, kind: req.kind, reason: code, message, earliestStart: null, alternatives: [], rule, ...(alternative ? { alternative } : {}), backend: this.loop.scheduler.backendOf(req), price };
      }
      const choice = chooseFor(this.loop, await this.leaseOwner(who.owner, who.group), req, now, terms, () => false);
      const q = choice.refused ?? quoteOf(choice.plan!);
      const chosen = this.loop.backendOf(choice.req);
      return {
        ...q, backend: chosen.name, price: chosen === this.loop.backendOf(req) ? price : priceOf(choice.req, terms, chosen.billing),
        ...(choice.req.burst ? { burst: choice.req.burst } : {}), ...(choice.options ? { options: choice.options } : {}),
      };
    });
  }

  /** Who a lease is for, as a billing back-end's account mapping reads it. */
  private async leaseOwner(owner: string, group: string | null): Promise<LeaseOwner> {
    const billing = this.loop.backends.some((b) => b.billing);
    return { owner, group, memberOf: billing ? await this.loop.store.groupsOf(owner) : [] };
  }

  /** What a lease has been charged so far, in the site's unit (and dollars on a billing back-end). */
  chargeNow(req: LeaseRequest, usage: Usage): Price {
    return chargeOf(req, usage, this.loop.terms.current, this.loop.backendOf(req.id).billing);
  }

  /** The site's back-ends by name, its own pool first. */
  get backendNames(): string[] {
    return this.scheduler.names;
  }

  get prices(): SitePrices {
    return sitePrices(this.loop.terms.current);
  }

  /** The site's terms in force, with their version and since when. */
  get terms(): TermsInForce {
    return this.loop.terms.inForce;
  }

  /** A group's statement for a period: its allocation, charges per user and usage records (statements.ts). */
  statement(group: string, period: Period): Statement {
    const now = Math.max(this.loop.clock.now(), this.scheduler.time);
    return statementOf(this.loop, group, period, now, (id) => this.loop.statusNow(this.scheduler.lease(id)!));
  }

  /** Puts new terms in force from now on (an administrator's change); refused, the old ones stay. */
  setTerms(terms: Terms, by: string): Promise<Result<TermsInForce>> {
    return setTerms(this.loop, terms, by);
  }

  /** Where leases may run, as GET /v1/backends shows it to `who`. */
  backendsFor(who: LeaseOwner): BackendList {
    return backendList(this.loop, who);
  }

  /** The back-end each lease runs on; the site's names, its own pool first. */
  backendOfLease(id: string): string | undefined {
    return this.scheduler.leaseBackend(id);
  }

  /** The back-end that holds a node. */
  backendOfNode(id: string): string | undefined {
    return this.loop.backendOfNode(id);
  }

  ownerOf(id: string): Ownership | undefined {
    return this.loop.owners.get(id);
  }

  /** Why the service takes nothing more (it heard an input the store lost); null while it runs. */
  get stoppedBy(): Error | null { return this.loop.stoppedBy; }

  /** The schedule export (vws.schedule/v1) of every lease, with the pool's nodes. */
  scheduleExport(): Iterable<string> {
    // A stopped service's scheduler heard inputs the store lost: what it holds is no schedule of the service's.
    if (this.stoppedBy) throw this.stoppedBy;
    return scheduleLines(this.scheduler.allLeases(), this.scheduler.nodes);
  }

  /** What a lease has used up to now (rows are written on changes, usage grows in between). */
  usageNow(id: string): Usage | null {
    const lease = this.scheduler.lease(id);
    return lease ? meteredUsage(lease, Math.max(this.loop.clock.now(), this.scheduler.time)) : null;
  }

  /** When a held lease's hold runs out, null if it is not held. */
  heldUntil(id: string): number | null {
    return this.scheduler.lease(id)?.heldUntil ?? null;
  }

  // ---- inputs ----
  // Each answers an expected "no" as a Refusal; it throws only for bugs and store failures.

  /**
   * Creates a lease if the scheduler would accept it now; otherwise nothing is written and the
   * refusal comes back with the earliest start and alternatives. An Idempotency-Key makes a
   * repeated request return the first answer.
   */
  create(owner: string, group: string | null, request: LeaseRequest, idempotencyKey?: string): Promise<Result<Created>> {
    return this.loop.exclusive(async () => {
      if (idempotencyKey) {
        const seen = this.loop.keys.seen(owner, idempotencyKey);
        if (seen) {
          const first = this.loop.rows.get(seen.leaseId) ?? (await this.loop.store.getLease(seen.leaseId))!;
          // A retry gets the first answer; another request under the same key is a client's mistake, not a retry.
          if (first.group !== group || !sameRequest(first.request, request)) {
            return refuse('idempotency-key-reused', `Idempotency-Key '${idempotencyKey}' already made lease '${first.id}' from another request: send a new key for a new request`);
          }
          return done({ lease: first, decision: seen.response as Decision, replayed: true });
        }
      }
      // A best-effort lease is only refused when the pool can never hold it: no need for a full plan.
      const planned = await this.planNow(owner, group, request, (req) => req.kind === 'best-effort' && this.scheduler.openNodesThatFit(this.scheduler.backendOf(req), req.perNode.cpu, req.perNode.memoryMiB) >= req.nodes);
      if (!planned.ok) return planned;
      const { req, now, plan } = planned;
      // The key travels in the input, so that a crash before it is remembered below is repaired by the replay.
      // The quoted plan is what the scheduler applies (a replay plans again, to the same plan).
      const applied = await this.loop.record({ type: 'submit', owner, group, request: req, ...(idempotencyKey ? { idempotencyKey } : {}) }, now, plan);
      await this.loop.flush();
      if (idempotencyKey) await this.loop.keys.remember(owner, idempotencyKey, req.id, applied.decision);
      return done({ lease: this.loop.rows.get(req.id)!, decision: applied.decision!, replayed: false });
    });
  }

  /**
   * The request as it arrives now (with its back-end, where the site has several), and the plan
   * the core makes for it (none where `noPlanNeeded` says the queue will take it), or why it is
   * refused: its id is taken, no back-end may or can run it, or the core says no. Nothing is logged.
   */
  private async planNow(owner: string, group: string | null, request: LeaseRequest, noPlanNeeded: (req: LeaseRequest) => boolean): Promise<{ ok: true; req: LeaseRequest; now: number; plan: Plan | undefined } | Refusal> {
    const taken = requestProblem(request) ?? this.idTaken(request.id);
    if (taken) return taken;
    const now = await this.loop.syncTo(this.loop.clock.now());
    const byTerms = await admissionRefusal(this.loop, { ...request, arrival: now }, owner, group, now);
    if (byTerms) return byTerms;
    const choice = chooseFor(this.loop, await this.leaseOwner(owner, group), { ...request, arrival: now }, now, this.loop.terms.current, noPlanNeeded);
    if (choice.refused) return { ...quoteRefusal(choice.refused), ...(choice.options ? { options: choice.options } : {}) };
    return { ok: true, req: choice.req, now, plan: choice.plan };
  }

  hold(owner: string, group: string | null, request: LeaseRequest, ttlSeconds: number): Promise<Result<Created>> {
    return this.loop.exclusive(async () => {
      // Checked before anything is logged (the core refuses these too), with the field at fault.
      const unholdable = fromCore(holdKindRefusal(request.kind), 'body.lease.kind');
      if (unholdable) return unholdable;
      const badTtl = holdProblem(ttlSeconds) ?? holdTermsCheck(this.loop, ttlSeconds);
      if (badTtl) return badTtl;
      const planned = await this.planNow(owner, group, request, () => false);
      if (!planned.ok) return planned;
      const { req, now, plan } = planned;
      // The core would refuse it too, after logging it: a rejected lease the client never made.
      const late = fromCore(tooLateToHold(plan!, this.scheduler.scheduler(this.scheduler.backendOf(req))!.config.bootSeconds, now));
      if (late) return late;
      const applied = await this.loop.record({ type: 'hold', owner, group, request: req, ttl: ttlSeconds }, now, plan);
      await this.loop.flush();
      return done({ lease: this.loop.rows.get(req.id)!, decision: applied.decision!, replayed: false });
    });
  }

  /** Makes a held lease binding; refused if it is not held (any more). */
  commit(id: string): Promise<Result<Decision>> {
    return this.loop.exclusive(async () => {
      // Checked before logging, as the core would refuse both (not-found, and a refused decision).
      if (!this.scheduler.lease(id)) return refuse('not-found', `no lease '${id}'`);
      const now = await this.loop.syncTo(this.loop.clock.now());
      const lease = this.scheduler.lease(id)!;
      if (lease.heldUntil === null) {
        return refuse('wrong-state', `cannot commit lease '${id}': ${lease.state === 'cancelled' ? 'its hold expired; hold or create it again' : `it is ${this.loop.statusNow(lease)}, not held`}`);
      }
      const applied = await this.loop.record({ type: 'commit', id }, now);
      await this.loop.flush();
      const d = applied.decision!;
      return d.ok ? done(d) : refuse(d.reason, d.message);
    });
  }

  /** Cancels a lease; refused if it had already ended. */
  cancel(id: string, by: string): Promise<Result<void>> {
    return this.loop.exclusive(async () => {
      if (!this.scheduler.lease(id)) return refuse('not-found', `no lease '${id}'`);
      const now = await this.loop.syncTo(this.loop.clock.now());
      const lease = this.scheduler.lease(id)!;
      if (hasEnded(lease)) return refuse('wrong-state', `lease '${id}' has already ended (${this.loop.statusNow(lease)}); there is nothing to cancel`);
      await this.loop.record({ type: 'cancel', id, by }, now);
      await this.loop.flush();
      return done(undefined);
    });
  }

  /**
   * What an owner does to a running lease: stop it (its work is done), suspend it until it is
   * resumed, or resume it. Refused with a reason when the lease is not in a state to allow it.
   */
  act(id: string, action: OwnerAction): Promise<Result<void>> {
    return this.loop.exclusive(async () => {
      const now = await this.loop.syncTo(this.loop.clock.now());
      if (!this.scheduler.lease(id)) return refuse('not-found', `no lease '${id}'`);
      // Checked first, so that a refused action is not written to the log.
      const beyond = action === 'suspend' ? actionBeyondDriver('suspend', this.loop.backendOf(id).driver) : null;
      if (beyond) return refuse('unsupported', `lease '${id}' cannot be suspended: ${beyond}`);
      // The owner's stop is the core's finish: the lease's work is done.
      const input = action === 'stop' ? 'finish' : action;
      const refusal = fromCore(this.scheduler.ownerActionRefusal(id, input));
      if (refusal) return refusal;
      await this.loop.record({ type: input, id }, now);
      await this.loop.flush();
      return done(undefined);
    });
  }

  /** An administrator moves a running lease to the named nodes, live where the driver can. */
  migrate(id: string, to: string[]): Promise<Result<void>> {
    return this.loop.exclusive(async () => {
      const now = await this.loop.syncTo(this.loop.clock.now());
      if (!this.scheduler.lease(id)) return refuse('not-found', `no lease '${id}'`);
      const unknown = to.find((n) => this.nodes.of(n) === undefined);
      if (unknown !== undefined) return refuse('unknown-node', `no node '${unknown}' in the pool: name nodes of GET /v1/nodes`, { path: 'body.nodes' });
      const beyond = actionBeyondDriver('migrate-live', this.loop.backendOf(id).driver);
      if (beyond) return refuse('unsupported', `lease '${id}' cannot move while it runs: ${beyond}`);
      const nodes = to.map((n) => this.nodes.of(n)!);
      // Checked first: an input the scheduler refuses must never reach the log.
      const refusal = fromCore(this.scheduler.liveMigrationRefusal(id, nodes, now), 'body.nodes');
      if (refusal) return refusal;
      await this.loop.record({ type: 'migrate', id, to }, now);
      await this.loop.flush();
      return done(undefined);
    });
  }

  /** What changing a live lease so would do now (when, where, at what price, whom it preempts); nothing is written. */
  quoteChange(id: string, change: LeaseChange): Promise<Result<ChangeAnswer>> {
    return quoteChange(this.loop, id, change);
  }

  /** Changes a live lease, whole, if it can be; refused, nothing is written (lease-changes.ts). */
  change(id: string, change: LeaseChange): Promise<Result<ChangeAnswer>> {
    return changeLease(this.loop, id, change);
  }

  /** A request id names one lease for ever: a second lease under it would be refused by the scheduler. */
  private idTaken(id: string): Refusal | null {
    // The core refuses an id it has seen (duplicate); checked before the request is logged.
    return this.scheduler.lease(id) ? refuse('already-exists', `lease id '${id}' is taken: send the request under a new id`) : null;
  }
}
