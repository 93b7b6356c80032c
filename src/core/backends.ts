// Several back-ends under one lease API: the site's own pool, and others its leases may burst to
// (an EC2 region, say), each a Scheduler with its own configuration; a lease lives on exactly one.
// They share one index of nodes, each keeping the others' closed. In a simulation a back-end steps
// only at its own events and inputs, as it would alone; a service steps them all at every instant
// it steps (see the constructor). docs/backends.md says why, at length.

import { burstNow, lapseMoves, move, type MoveSite, offerMoves, planMove } from './backend-moves.ts';
import { BackendSteps } from './backend-steps.ts';
import type { SchedulerConfig } from './config.ts';
import type { AcceptedChange, ChangePlan, LeaseChange } from './change-plan.ts';
import type { Drained } from './pool-membership.ts';
import type { CostFigures } from './cost-figures.ts';
import type { LeaseRecord } from './lease-record.ts';
import type { NodeLoss } from './node-loss.ts';
import type { NodeDeparture } from './node-departure.ts';
import type { Quote } from './negotiation.ts';
import type { PreemptionPolicy } from './preemption-policy.ts';
import { type Decision, type OwnerAction, type Plan, type PlanObserver, Scheduler, type StepResult } from './scheduler.ts';
import type { Done, LeaseRequest, NodeSpec, Refusal } from './types.ts';

export interface BackendSpec {
  name: string;
  config: SchedulerConfig;
  /** What it keeps whatever the site's policy says (what its driver cannot do otherwise): see setPolicy. */
  fixed?: Partial<SchedulerConfig>;
  /** The nodes it starts with. */
  nodes?: readonly NodeSpec[];
}

export class Backends {
  /** In the order given: the first is the site's own pool, where a request without a back-end goes. */
  private readonly list: Array<{ name: string; scheduler: Scheduler; fixed: Partial<SchedulerConfig> }>;
  /** Each node's back-end, by index into `list`. */
  private readonly nodeOwner: number[] = [];
  private readonly nodeSpecs: NodeSpec[] = [];
  /** Leases left waiting on one back-end that go to another if they have not begun by `at`, soonest first. */
  private readonly bursts: Array<{ at: number; id: string; backend: string }> = [];
  /** Leases that moved, to the back-end that has them now (the one they left keeps a cancelled record, unseen). */
  private readonly moved = new Map<string, string>();
  /** The site's instant: every back-end is there, or has had nothing to do since it was last stepped. */
  private now = 0;
  /** When each back-end steps. */
  private readonly clock: BackendSteps;
  /** What moving leases between back-ends needs of the site (backend-moves.ts). */
  private readonly site: MoveSite;
  private moveRule: (req: LeaseRequest, backend: string) => string | null = () => null;

  /**
   * `stepAll`: step every back-end at every instant the site is stepped, as a service must (its
   * log holds the instants it stepped at, quotes' included, and a replay steps every back-end at
   * them alike); without it (a simulation), each back-end steps at its own events and inputs only.
   */
  constructor(specs: readonly BackendSpec[], policies: readonly PreemptionPolicy[] = [], observer: PlanObserver = {}, stepAll = false) {
    if (specs.length === 0) throw new RangeError('a site needs at least one back-end');
    const names = new Set<string>();
    for (const s of specs) {
      if (names.has(s.name)) throw new RangeError(`back-end '${s.name}' is named twice: give each back-end its own name`);
      names.add(s.name);
    }
    const all = specs.flatMap((s, b) => (s.nodes ?? []).map((node) => ({ node, b })));
    this.list = specs.map((s) => ({ name: s.name, scheduler: new Scheduler(all.map((x) => x.node), s.config, policies, observer), fixed: s.fixed ?? {} }));
    this.clock = new BackendSteps(this.list.map((b) => b.scheduler), stepAll);
    for (const { node, b } of all) {
      this.nodeSpecs.push(node);
      this.nodeOwner.push(b);
    }
    all.forEach(({ b }, n) => this.closeElsewhere(n, b, 0));
    this.site = { list: this.list, clock: this.clock, moved: this.moved, home: (id) => this.home(id), missing: (name) => this.missing(name), refusesMove: (req, name) => this.moveRule(req, name) };
    if (this.list.length > 1) for (const b of this.list) b.scheduler.trackMoves();
  }

  /**
   * The site's rule for which back-ends a lease whose promise broke may be offered and moved to,
   * beyond those that can hold it: why not, or null (the service's: its owner has an account there).
   */
  setMoveRule(rule: (req: LeaseRequest, backend: string) => string | null): void {
    this.moveRule = rule;
  }

  /** The back-ends' names, the site's own pool first. */
  get names(): string[] {
    return this.list.map((b) => b.name);
  }

  /** The pool's scheduler: the first back-end's. */
  get primary(): Scheduler {
    return this.list[0].scheduler;
  }

  /** The back-end of that name's scheduler, or undefined. */
  scheduler(name: string): Scheduler | undefined {
    return this.list.find((b) => b.name === name)?.scheduler;
  }

  /** The back-end a request goes to: the one it names, else the site's own pool. */
  backendOf(req: Pick<LeaseRequest, 'backend'>): string {
    return req.backend ?? this.list[0].name;
  }

  /** The back-end that holds node n. */
  nodeBackend(n: number): string {
    return this.list[this.nodeOwner[n]].name;
  }

  /** Every node, in index order (the same in every back-end). */
  get nodes(): readonly NodeSpec[] {
    return this.nodeSpecs;
  }

  get time(): number {
    return this.list.length === 1 ? this.primary.time : this.now;
  }

  get queueLength(): number {
    return this.list.reduce((sum, b) => sum + b.scheduler.queueLength, 0);
  }

  lease(id: string): LeaseRecord | undefined {
    return this.home(id)?.scheduler.lease(id);
  }

  /** Where lease `id` lives, or undefined. */
  leaseBackend(id: string): string | undefined {
    return this.home(id)?.name;
  }

  /** Every lease: back-end by back-end, each in submission order. */
  allLeases(): readonly LeaseRecord[] {
    if (this.list.length === 1) return this.primary.allLeases();
    const all = this.list.flatMap((b) => b.scheduler.allLeases());
    return this.moved.size === 0 ? all : all.filter((l) => (this.moved.get(l.req.id) ?? this.leaseHome(l)) === this.leaseHome(l));
  }

  nextEventTime(): number {
    return Math.min(this.bursts.length > 0 ? this.bursts[0].at : Infinity, this.clock.nextTime());
  }

  /** Why there is no back-end of that name here, or null: the one message for every caller that names one. */
  missing(name: string): string | null {
    return this.scheduler(name) ? null : `no back-end '${name}': this site has ${this.names.join(', ')}`;
  }

  /** A request naming a back-end the site does not have is refused here, as the core refuses what it cannot take. */
  unknownBackend(req: Pick<LeaseRequest, 'backend'>): Refusal | null {
    const missing = req.backend === undefined ? null : this.missing(req.backend);
    return missing === null ? null : { ok: false, code: 'invalid', message: missing };
  }

  submit(req: LeaseRequest, now: number, plan?: Plan): Done {
    const unknown = this.unknownBackend(req) ?? this.takenElsewhere(req.id) ?? this.badBurst(req);
    if (unknown) return unknown;
    const to = this.of(req);
    const done = to.submit(req, now, plan);
    this.clock.touch(to);
    if (done.ok && req.burst) this.laterBurst({ at: req.burst.at, id: req.id, backend: req.burst.backend });
    return done;
  }

  plan(req: LeaseRequest, now: number, maxAlternatives = 3): Plan {
    return this.clock.at(this.of(req), now).plan(req, now, maxAlternatives);
  }

  quote(req: LeaseRequest, now: number, maxAlternatives = 3): Quote {
    return this.clock.at(this.of(req), now).quote(req, now, maxAlternatives);
  }

  hold(req: LeaseRequest, now: number, ttlSeconds: number, plan?: Plan): Decision | Refusal {
    const unknown = this.unknownBackend(req) ?? this.takenElsewhere(req.id);
    if (unknown) return unknown;
    const to = this.clock.at(this.of(req), now);
    this.clock.touch(to);
    return this.offered(to.hold(req, now, ttlSeconds, plan), now);
  }

  commit(id: string, now: number): Decision | Refusal {
    return this.offered(this.clock.touching(this.holding(id), now).commit(id, now), now);
  }

  cancel(id: string, now: number): Done {
    return this.clock.touching(this.holding(id), now).cancel(id, now);
  }

  /**
   * Taken as the Scheduler alone takes it, with no step at `now` first: the next advance steps the
   * back-end at `now` with the run ended. A step before would decide its queue at `now` as if the
   * run still held its nodes, and a lease placed then (its image sent) would stay where it was put.
   */
  finishEarly(id: string, now: number): Done {
    this.clock.touch(this.holding(id));
    return this.holding(id).finishEarly(id, now);
  }

  suspendByOwner(id: string, now: number): Done {
    return this.clock.touching(this.holding(id), now).suspendByOwner(id, now);
  }

  resumeByOwner(id: string, now: number): Done {
    return this.clock.touching(this.holding(id), now).resumeByOwner(id, now);
  }

  /** A change naming a back-end moves a lease renegotiating there (backend-moves.ts). */
  planChange(id: string, change: LeaseChange, now: number, maxAlternatives = 3): ChangePlan {
    if (change.backend !== undefined && this.list.length > 1) return planMove(this.site, id, change, now, maxAlternatives);
    return this.clock.at(this.holding(id), now).planChange(id, change, now, maxAlternatives);
  }

  change(id: string, change: LeaseChange, now: number, plan?: ChangePlan): Done<{ plan: AcceptedChange }> {
    if (change.backend !== undefined && this.list.length > 1) return this.offered(move(this.site, id, change, now, plan), now);
    return this.offered(this.clock.touching(this.holding(id), now).change(id, change, now, plan), now);
  }

  ownerActionRefusal(id: string, action: OwnerAction): Refusal | null {
    return this.holding(id).ownerActionRefusal(id, action);
  }

  liveMigrationRefusal(id: string, toNodes: readonly number[], now: number): Refusal | null {
    const scheduler = this.holding(id);
    const foreign = toNodes.find((n) => n >= 0 && n < this.nodeOwner.length && this.list[this.nodeOwner[n]].scheduler !== scheduler);
    if (foreign !== undefined) {
      return { ok: false, code: 'wrong-state', message: `node '${this.nodeSpecs[foreign].id}' is on back-end '${this.nodeBackend(foreign)}', not the lease's: a lease moves only between nodes of its own back-end` };
    }
    return this.clock.at(scheduler, now).liveMigrationRefusal(id, toNodes, now);
  }

  migrateLive(id: string, toNodes: readonly number[], now: number): Done {
    const refusal = this.list.length > 1 ? this.liveMigrationRefusal(id, toNodes, now) : null;
    if (refusal) return refusal;
    return this.clock.touching(this.holding(id), now).migrateLive(id, toNodes, now);
  }

  /** Adds a node to back-end `backend` (the pool's by default); answers its index. */
  addNode(spec: NodeSpec, now: number, backend: string = this.list[0].name): number {
    const missing = this.missing(backend);
    if (missing) throw new RangeError(missing);
    const b = this.list.findIndex((x) => x.name === backend);
    let n = -1;
    for (const x of this.list) n = this.clock.touching(x.scheduler, now).addNode(spec, now);
    this.nodeSpecs.push(spec);
    this.nodeOwner.push(b);
    this.closeElsewhere(n, b, now);
    return n;
  }

  closeNode(n: number, now: number, evacuate = false): Done<Drained> {
    return this.offered(this.clock.touching(this.owning(n), now).closeNode(n, now, evacuate), now);
  }

  nodeIsIdle(n: number): boolean {
    return this.owning(n).nodeIsIdle(n);
  }

  nodeIsDrained(n: number): boolean {
    return this.owning(n).nodeIsDrained(n);
  }

  nodeIsLost(n: number): boolean {
    return this.owning(n).nodeIsLost(n);
  }

  loseNode(n: number, now: number): Done<NodeLoss> {
    return this.offered(this.clock.touching(this.owning(n), now).loseNode(n, now), now);
  }

  regainNode(n: number, now: number): void {
    this.clock.touching(this.owning(n), now).regainNode(n, now);
  }

  departNode(n: number, at: number, now: number, promptly = false): Done<NodeDeparture> {
    return this.offered(this.clock.touching(this.owning(n), now).departNode(n, at, now, promptly), now);
  }


  /** Figures measured on the pool's nodes: the pool plans with them; other back-ends keep their own. */
  setCosts(figures: CostFigures, now: number): Done {
    return this.clock.touching(this.primary, now).setCosts(figures, now);
  }

  /** The site's policy changed: every back-end takes it but for what it keeps (`fixed`), all or none. */
  setPolicy(config: SchedulerConfig, now: number): Done {
    const refused = this.policyRefusal(config);
    if (!refused) for (const b of this.list) this.clock.touching(b.scheduler, now).setPolicy({ ...config, ...b.fixed }, now);
    return refused ?? { ok: true };
  }

  policyRefusal(config: SchedulerConfig): Refusal | null {
    const b = this.list.find((x) => x.scheduler.policyRefusal({ ...config, ...x.fixed }));
    const refused = b?.scheduler.policyRefusal({ ...config, ...b.fixed }) ?? null;
    return refused && this.list.length > 1 ? { ...refused, message: `back-end '${b!.name}': ${refused.message}` } : refused;
  }

  /** The leases that hold or plan reservations on node n. */
  reservationsOn(n: number): ReturnType<Scheduler['table']['reservationsOn']> {
    return this.owning(n).table.reservationsOn(n);
  }

  /** How many open nodes of the back-end have room for one VM of this shape. */
  openNodesThatFit(backend: string, cpu: number, memoryMiB: number, bw = 0): number {
    return this.scheduler(backend)?.table.openNodesThatFit(cpu, memoryMiB, bw) ?? 0;
  }

  trackChanges(): void {
    for (const b of this.list) b.scheduler.trackChanges();
  }

  /**
   * Every back-end at `now`, one after another (they share nothing but the clock); then the
   * leases due to move that have still not begun go to their other back-end, which takes them now.
   */
  advance(now: number): StepResult {
    if (this.list.length === 1) return this.primary.advance(now);
    if (now < this.now) throw new RangeError(`time went backwards: ${now} < ${this.now}`);
    this.now = now;
    const steps = this.clock.stepAt(now);
    while (this.bursts.length > 0 && this.bursts[0].at <= now) {
      const moved = burstNow(this.site, this.bursts.shift()!, now);
      if (moved) steps.push(...moved);
    }
    steps.push(...lapseMoves(this.site, now));
    offerMoves(this.site, now);
    const changed = new Set<LeaseRecord>();
    for (const s of steps) for (const l of s.changed) changed.add(l);
    return {
      now,
      started: steps.flatMap((s) => s.started),
      ended: steps.flatMap((s) => s.ended),
      completed: steps.flatMap((s) => s.completed),
      decisions: steps.flatMap((s) => s.decisions),
      expired: steps.flatMap((s) => s.expired),
      failed: steps.flatMap((s) => s.failed),
      changed,
    };
  }

  /** A burst names another back-end of the site, later than the lease's arrival. */
  private badBurst(req: LeaseRequest): Refusal | null {
    if (!req.burst) return null;
    const where = this.backendOf(req);
    if (req.burst.backend === where || !this.scheduler(req.burst.backend)) return { ok: false, code: 'invalid', message: `lease '${req.id}' may burst only to another back-end of this site (${this.names.filter((n) => n !== where).join(', ') || 'none'}), not '${req.burst.backend}'` };
    if (req.kind !== 'best-effort') return { ok: false, code: 'invalid', message: `lease '${req.id}' is ${req.kind}: only a best-effort lease waits on the pool and bursts later` };
    return null;
  }

  /** What an input answered, once the leases whose promise it broke have the other back-ends' offers too. */
  private offered<T>(answer: T, now: number): T {
    if (this.list.length > 1) offerMoves(this.site, now);
    return answer;
  }

  private laterBurst(due: { at: number; id: string; backend: string }): void {
    let k = this.bursts.length;
    while (k > 0 && this.bursts[k - 1].at > due.at) k--;
    this.bursts.splice(k, 0, due);
  }

  /** The back-end whose scheduler holds this record (a moved lease has one in each). */
  private leaseHome(l: LeaseRecord): string {
    return l.req.backend ?? this.list[0].name;
  }

  private of(req: Pick<LeaseRequest, 'backend'>): Scheduler {
    const name = this.backendOf(req);
    const missing = this.missing(name);
    if (missing) throw new RangeError(missing);
    return this.scheduler(name)!;
  }

  /** The back-end that has lease `id`: the one it moved to, else the one whose book holds it. */
  private home(id: string): { name: string; scheduler: Scheduler } | undefined {
    const to = this.moved.get(id);
    return to !== undefined ? this.list.find((b) => b.name === to) : this.list.find((b) => b.scheduler.lease(id) !== undefined);
  }

  /** The scheduler holding lease `id`; the pool's for an id nobody has (it answers not-found). */
  private holding(id: string): Scheduler {
    return this.home(id)?.scheduler ?? this.primary;
  }

  private owning(n: number): Scheduler {
    const b = this.nodeOwner[n];
    // An index no back-end has: the pool's scheduler answers not-found, as it does alone.
    return b === undefined ? this.primary : this.list[b].scheduler;
  }

  /** One lease id, one lease, whichever back-end has it. */
  private takenElsewhere(id: string): Refusal | null {
    const where = this.leaseBackend(id);
    return where === undefined ? null : { ok: false, code: 'duplicate', message: `lease id '${id}' was already submitted (to back-end '${where}')` };
  }

  private closeElsewhere(n: number, owner: number, now: number): void {
    this.list.forEach((b, k) => {
      if (k !== owner) b.scheduler.closeNode(n, Math.max(now, b.scheduler.time));
    });
  }
}

