import { applyPlan, currentPlan, type Decision, type PlanObserver, reject } from './admission.ts';
import { processQueue, reevaluateFuture } from './best-effort-queue.ts';
import { applyBoundaries, nextBoundary } from './boundaries.ts';
import { applyChange } from './change-apply.ts';
import { type AcceptedChange, type ChangePlan, type ChangeQuote, changeQuoteOf, type LeaseChange } from './change-plan.ts';
import type { SchedulerConfig } from './config.ts';
import { CoreState } from './core-state.ts';
import { COST_FIGURE_KEYS, type CostFigures, costFiguresProblem } from './cost-figures.ts';
import { commit, expireHolds, hold, workOf } from './holds.ts';
import type { LeaseCosts } from './lease-costs.ts';
import type { LeaseRecord } from './lease-record.ts';
import { LeaseMoves } from './lease-moves.ts';
import { type Quote, quoteOf } from './negotiation.ts';
import type { NodeLoss } from './node-loss.ts';
import { planChange } from './lease-change.ts';
import { lapseRenegotiations } from './renegotiation.ts';
import { departNode, type NodeDeparture } from './node-departure.ts';
import * as owner from './owner-actions.ts';
import type { OwnerAction } from './owner-actions.ts';
import type { Plan } from './plan.ts';
import * as pool from './pool-membership.ts';
import { PREEMPTION_POLICIES, type PreemptionPolicy } from './preemption-policy.ts';
import { QueuePlacement } from './queue-placement.ts';
import { planRequest, type Policies } from './request-planner.ts';
import type { Segment } from './segment.ts';
import type { SlotTable } from './slot-table.ts';
import type { TransferLink } from './transfer-link.ts';
import { type Done, type LeaseRequest, type NodeSpec, type Refusal, refusal, type RejectReason } from './types.ts';

export type { Decision, PlanObserver } from './admission.ts';
export type { Plan } from './plan.ts';
export type { OwnerAction } from './owner-actions.ts';
export type { ChangePlan, ChangeQuote, LeaseChange } from './change-plan.ts';

/** What became true at one instant: the plan's actions that took effect. */
export interface StepResult {
  now: number;
  started: Segment[];
  ended: Segment[];
  completed: LeaseRecord[];
  decisions: Decision[];
  /** Leases whose holds expired: cancelled, their resources freed. */
  expired: LeaseRecord[];
  /**
   * Every lease whose record changed since the previous advance: at this step, or by the actions
   * heard since (a submit, a cancel, a node lost...), whoever's input it was. What a view of the
   * leases must show anew. Always empty unless the scheduler was asked to trackChanges().
   */
  changed: ReadonlySet<LeaseRecord>;
  /** Leases that could not begin where they were planned, a node there being lost: see `failure`. */
  failed: LeaseRecord[];
}

/**
 * The lease scheduler. Deterministic: state changes only through its methods, each given the
 * current time; no clock, no I/O. A façade: each job is a module of its own (see the imports).
 * An action it cannot do answers a Refusal; exceptions mean bugs (or a caller out of step with
 * the scheduler's clock).
 */
export class Scheduler {
  private readonly s: CoreState;
  private readonly placement: QueuePlacement;
  private policies: Policies;
  private readonly knownPolicies: Readonly<Record<string, PreemptionPolicy>>;
  private readonly observer: PlanObserver;
  private pending: Array<{ lease: LeaseRecord; plan: Plan | undefined }> = [];
  private steps = 0;

  /** `policies`: a site's own preemption policies, named in the config like the built-in ones. `observer` hears of every plan. */
  constructor(nodes: readonly NodeSpec[], config: SchedulerConfig, policies: readonly PreemptionPolicy[] = [], observer: PlanObserver = {}) {
    // A copy: measured costs change it (setCosts), and the caller's configuration is not ours to change.
    this.s = new CoreState(nodes, { ...config });
    const known = { ...PREEMPTION_POLICIES, ...Object.fromEntries(policies.map((p) => [p.name, p])) };
    this.knownPolicies = known;
    this.policies = { preemption: policyNamed(known, config.preemptionPolicy), urgent: policyNamed(known, config.urgentPreemptionPolicy) };
    this.placement = new QueuePlacement(this.s, this.s.images);
    this.observer = observer;
  }

  get config(): SchedulerConfig {
    return this.s.config;
  }

  get table(): SlotTable {
    return this.s.table;
  }

  get link(): TransferLink {
    return this.s.link;
  }

  get costs(): LeaseCosts {
    return this.s.costs;
  }

  get time(): number {
    return this.s.now;
  }

  /** Moves with every change a plan depends on: a plan is applied only at the version it was made at. */
  get version(): number {
    return this.s.version;
  }

  lease(id: string): LeaseRecord | undefined {
    return this.s.book.get(id);
  }

  /** All leases in submission order. */
  allLeases(): readonly LeaseRecord[] {
    return this.s.book.all();
  }

  get queueLength(): number {
    return this.s.queue.length;
  }

  /** The next instant at which a planned segment starts or ends or a hold expires, Infinity if none. */
  nextEventTime(): number {
    return Math.min(nextBoundary(this.s), this.s.book.nextExpiry);
  }

  /**
   * Records a request that arrives at `now`; it is decided at the next advance(now), by applying
   * `plan` (what plan() answered for this very request) if nothing changed since, else by
   * planning it then.
   */
  submit(req: LeaseRequest, now: number, plan?: Plan): Done {
    if (this.s.book.has(req.id)) return refusal('duplicate', `lease id '${req.id}' was already submitted`);
    const lease = this.s.book.add(req, workOf(this.s, req));
    this.pending.push({ lease, plan });
    this.s.now = Math.max(this.s.now, now);
    return { ok: true };
  }

  /**
   * Takes in a request refused before it is planned (the site's terms forbid it, in a simulation):
   * it is kept as rejected, with its reason, as the lease of a refused plan is.
   */
  refuse(req: LeaseRequest, now: number, reason: RejectReason, message: string): Done {
    if (this.s.book.has(req.id)) return refusal('duplicate', `lease id '${req.id}' was already submitted`);
    reject(this.s, this.s.book.add(req, workOf(this.s, req)), reason, message);
    this.s.now = Math.max(this.s.now, now);
    return { ok: true };
  }

  /** Ends a running lease's current run at `now`: its work is done (or its client stopped it). */
  finishEarly(id: string, now: number): Done {
    return owner.finishEarly(this.s, id, now);
  }

  // ---- the pool ----

  addNode(spec: NodeSpec, now: number): number {
    this.mustBeAt(now, 'addNode');
    return pool.addNode(this.s, spec);
  }

  /** `evacuate`: leases planned there that have not begun are placed elsewhere, or renegotiate (pool-membership.ts). */
  closeNode(n: number, now: number, evacuate = false): Done<pool.Drained> {
    this.mustBeAt(now, 'closeNode');
    return pool.closeNode(this.s, n, now, evacuate ? { policies: this.policies } : null);
  }

  /** Whether node n holds nothing now or later, so that it can leave the pool. */
  nodeIsIdle(n: number): boolean {
    return this.s.table.holdsNoLease(n);
  }

  nodeIsDrained(n: number): boolean {
    return this.s.drained.has(n);
  }

  nodeIsLost(n: number): boolean {
    return this.s.lost.has(n);
  }

  loseNode(n: number, now: number): Done<NodeLoss> {
    this.mustBeAt(now, 'loseNode');
    return pool.loseNode(this.s, n, now);
  }

  regainNode(n: number, now: number): void {
    this.mustBeAt(now, 'regainNode');
    pool.regainNode(this.s, n);
  }

  /** Node n leaves the pool at `at` (Infinity: it stays): see node-departure.ts. */
  departNode(n: number, at: number, now: number, promptly = false): Done<NodeDeparture> {
    this.mustBeAt(now, 'departNode');
    return departNode(this.s, n, at, now, promptly);
  }

  /** When node n leaves the pool; Infinity if it stays. */
  departureOf(n: number): number {
    return this.s.table.departureOf(n);
  }

  /**
   * Replaces cost figures of the model with measured ones. Whatever is planned from now on uses
   * them; what is already planned keeps its times, as other leases were planned around them. Leases
   * backfilled into the future are placed again, with the new figures.
   */
  setCosts(figures: CostFigures, now: number): Done {
    this.mustBeAt(now, 'setCosts');
    const problem = costFiguresProblem(figures);
    if (problem) return refusal('invalid', problem);
    for (const key of COST_FIGURE_KEYS) {
      const value = figures[key];
      if (value !== undefined) this.s.config[key] = value;
    }
    this.s.costsChanged();
    this.s.mustReevaluate = true;
    return { ok: true };
  }

  /**
   * Takes a new policy (the site changed its terms). As with measured costs, what is planned from
   * now on follows it and what is already planned keeps its times; leases backfilled into the
   * future are placed again. The image mode and cache size may change only before the first lease.
   */
  setPolicy(config: SchedulerConfig, now: number): Done {
    this.mustBeAt(now, 'setPolicy');
    const refused = this.policyRefusal(config);
    if (refused) return refused;
    this.s.reconfigure(config);
    this.policies = { preemption: policyNamed(this.knownPolicies, config.preemptionPolicy), urgent: policyNamed(this.knownPolicies, config.urgentPreemptionPolicy) };
    this.s.mustReevaluate = true;
    return { ok: true };
  }

  /** Why setPolicy would refuse this configuration now, or null. */
  policyRefusal(config: SchedulerConfig): Refusal | null {
    // Rates may be infinite here (free, as a simulation may say), unlike measured figures.
    const rate = (['suspendRateMBps', 'resumeRateMBps', 'migrateBandwidthMBps', 'imageBandwidthMBps'] as const).find((k) => !(config[k] > 0));
    if (rate) return refusal('invalid', `${rate} must be a positive number of MiB/s, got ${config[rate]}`);
    const seconds = (['bootSeconds', 'shutdownSeconds'] as const).find((k) => !(Number.isInteger(config[k]) && config[k] >= 0));
    if (seconds) return refusal('invalid', `${seconds} must be a whole number of seconds >= 0, got ${config[seconds]}`);
    const unknown = [config.preemptionPolicy, config.urgentPreemptionPolicy].find((name) => !this.knownPolicies[name]);
    if (unknown !== undefined) return refusal('invalid', `no preemption policy '${unknown}': name one of ${Object.keys(this.knownPolicies).join(', ')}`);
    const c = this.s.config;
    if ((config.images !== c.images || config.imageCacheMiB !== c.imageCacheMiB) && this.s.book.all().length > 0) {
      return refusal('policy', `the image mode (${c.images}) and cache size (${c.imageCacheMiB} MiB) are kept from the first lease on: change them only on a new store`);
    }
    return null;
  }

  // ---- negotiation ----

  /**
   * What the scheduler would do with `req` now, as a plan not applied: accepted with its
   * reservations, or refused with the earliest feasible start and alternatives, each of which
   * would be accepted if requested unchanged before anything else changes. Submit or hold the
   * same request with this plan to have exactly it applied. The scheduler must be at `now`.
   */
  plan(req: LeaseRequest, now: number, maxAlternatives = 3): Plan {
    this.mustBeAt(now, 'plan');
    return this.quoted(req, maxAlternatives);
  }

  /** The plan for `req` now, as the client reads it. */
  quote(req: LeaseRequest, now: number, maxAlternatives = 3): Quote {
    this.mustBeAt(now, 'quote');
    return quoteOf(this.quoted(req, maxAlternatives));
  }

  private quoted(req: LeaseRequest, maxAlternatives: number): Plan {
    const plan = planRequest(this.s, req, this.policies, { quoting: true, maxAlternatives, queueLength: this.s.queue.length });
    this.observer.planned?.(plan);
    return plan;
  }

  /** Decides `req` at once and holds it for `ttlSeconds`; see holds.ts. */
  hold(req: LeaseRequest, now: number, ttlSeconds: number, plan?: Plan): Decision | Refusal {
    this.mustBeAt(now, 'hold');
    return hold(this.s, req, ttlSeconds, this.policies, this.observer, plan);
  }

  /** Makes a held lease binding. */
  commit(id: string, now: number): Decision | Refusal {
    this.mustBeAt(now, 'commit');
    return commit(this.s, id);
  }

  // ---- renegotiation ----

  /** What changing lease `id` so would do now, as a plan not applied (see lease-change.ts). */
  planChange(id: string, change: LeaseChange, now: number, maxAlternatives = 3): ChangePlan {
    this.mustBeAt(now, 'planChange');
    return planChange(this.s, id, change, this.policies, maxAlternatives);
  }

  quoteChange(id: string, change: LeaseChange, now: number, maxAlternatives = 3): ChangeQuote {
    return changeQuoteOf(this.planChange(id, change, now, maxAlternatives));
  }

  /**
   * Changes lease `id` now, whole or not at all: by `plan` (what planChange answered for this very
   * change) if nothing changed since, else by planning it again.
   */
  change(id: string, change: LeaseChange, now: number, plan?: ChangePlan): Done<{ plan: AcceptedChange }> {
    this.mustBeAt(now, 'change');
    const current = plan !== undefined && plan.leaseId === id && plan.change === change && plan.at === now && plan.version === this.s.version
      ? plan : planChange(this.s, id, change, this.policies, 0);
    if (!current.ok) return refusal(current.code, current.message);
    applyChange(this.s, current);
    return { ok: true, plan: current };
  }

  // ---- owner actions ----

  cancel(id: string, now: number): Done {
    this.mustBeAt(now, 'cancel');
    return owner.cancel(this.s, id, now);
  }

  suspendByOwner(id: string, now: number): Done {
    this.mustBeAt(now, 'suspendByOwner');
    return owner.suspendByOwner(this.s, id, now);
  }

  resumeByOwner(id: string, now: number): Done {
    this.mustBeAt(now, 'resumeByOwner');
    return owner.resumeByOwner(this.s, id);
  }

  /** Why the owner's action on lease `id` cannot be done now, or null if it can; changes nothing. */
  ownerActionRefusal(id: string, action: OwnerAction): Refusal | null {
    return owner.ownerActionRefusal(this.s, id, action);
  }

  /** Why the running lease `id` cannot move to `toNodes` now, live; null if it can. */
  liveMigrationRefusal(id: string, toNodes: readonly number[], now: number): Refusal | null {
    return owner.liveMigrationRefusal(this.s, id, toNodes, now);
  }

  migrateLive(id: string, toNodes: readonly number[], now: number): Done {
    this.mustBeAt(now, 'migrateLive');
    return owner.migrateLive(this.s, id, toNodes, now);
  }

  /** On a site of several back-ends: its leases whose promise breaks may be offered, and moved to, the others (backend-moves.ts). */
  trackMoves(): void {
    this.s.moves ??= { broken: [], lapsed: [] };
  }

  /** This back-end's side of moving leases between back-ends (lease-moves.ts); at the scheduler's instant. */
  get moves(): LeaseMoves {
    return new LeaseMoves(this.s, this.policies);
  }

  /** From now on each step names the leases whose record changed (StepResult.changed), for a view that shows them. */
  trackChanges(): void {
    this.s.changed ??= new Set();
  }

  // ---- time ----

  /** Applies everything that happens at `now`, then decides pending requests and the queue. */
  advance(now: number): StepResult {
    const s = this.s;
    if (now < s.now) throw new RangeError(`time went backwards: ${now} < ${s.now}`);
    s.now = now;
    const expired = expireHolds(s, now);
    lapseRenegotiations(s, now, this.policies);
    const result: StepResult = { now, started: s.started, ended: [], completed: s.completed, decisions: [], expired, failed: [], changed: s.changed ?? NOTHING_TRACKED };
    applyBoundaries(s, now, result);
    const pending = this.pending;
    this.pending = [];
    for (const { lease, plan } of pending) result.decisions.push(applyPlan(s, lease, currentPlan(s, lease.req, this.policies, plan, this.observer), this.policies, this.observer));
    if (s.mustReevaluate) reevaluateFuture(s, this.placement, now);
    processQueue(s, this.placement, now, (lease) => result.decisions.push({ ok: true, leaseId: lease.req.id, state: 'scheduled' }));
    applyBoundaries(s, now, result);
    s.started = [];
    s.completed = [];
    if (s.changed) s.changed = new Set();
    if (++this.steps % 512 === 0) {
      s.table.prune(now);
      s.link.prune(now);
    }
    return result;
  }

  private mustBeAt(now: number, what: string): void {
    if (now !== this.s.now) throw new RangeError(`${what} at ${now}, but the scheduler is at ${this.s.now}: advance it to ${now} first`);
  }
}

const NOTHING_TRACKED: ReadonlySet<LeaseRecord> = new Set();

function policyNamed(known: Readonly<Record<string, PreemptionPolicy>>, name: string): PreemptionPolicy {
  const policy = known[name];
  if (!policy) throw new RangeError(`unknown preemption policy '${name}'; use one of ${Object.keys(known).join(', ')}`);
  return policy;
}
