// Several back-ends under one lease API: the site's own pool, and others its leases may burst to
// (an EC2 region, say). Each back-end is a Scheduler of its own, with its own configuration (EC2
// cannot suspend to a file, so its leases are requeued when preempted; it boots in its own time),
// and a lease lives on exactly one of them. The back-ends share one index of nodes: every
// scheduler holds every node, and each keeps the nodes of the others closed, so a node's index
// means the same everywhere and nothing is ever placed on another back-end's node. One back-end
// is the Scheduler itself, at no cost.

import type { SchedulerConfig } from './config.ts';
import type { CostFigures } from './cost-figures.ts';
import type { LeaseRecord } from './lease-record.ts';
import type { NodeLoss } from './node-loss.ts';
import type { Quote } from './negotiation.ts';
import type { PreemptionPolicy } from './preemption-policy.ts';
import { type Decision, type OwnerAction, type Plan, type PlanObserver, Scheduler, type StepResult } from './scheduler.ts';
import type { Done, LeaseRequest, NodeSpec, Refusal } from './types.ts';

export interface BackendSpec {
  name: string;
  config: SchedulerConfig;
  /** The nodes it starts with. */
  nodes?: readonly NodeSpec[];
}

export class Backends {
  /** In the order given: the first is the site's own pool, where a request without a back-end goes. */
  private readonly list: Array<{ name: string; scheduler: Scheduler }>;
  /** Each node's back-end, by index into `list`. */
  private readonly nodeOwner: number[] = [];
  private readonly nodeSpecs: NodeSpec[] = [];

  constructor(specs: readonly BackendSpec[], policies: readonly PreemptionPolicy[] = [], observer: PlanObserver = {}) {
    if (specs.length === 0) throw new RangeError('a site needs at least one back-end');
    const names = new Set<string>();
    for (const s of specs) {
      if (names.has(s.name)) throw new RangeError(`back-end '${s.name}' is named twice: give each back-end its own name`);
      names.add(s.name);
    }
    const all = specs.flatMap((s, b) => (s.nodes ?? []).map((node) => ({ node, b })));
    this.list = specs.map((s) => ({ name: s.name, scheduler: new Scheduler(all.map((x) => x.node), s.config, policies, observer) }));
    for (const { node, b } of all) {
      this.nodeSpecs.push(node);
      this.nodeOwner.push(b);
    }
    all.forEach(({ b }, n) => this.closeElsewhere(n, b, 0));
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
    return this.primary.time;
  }

  get config(): SchedulerConfig {
    return this.primary.config;
  }

  get queueLength(): number {
    return this.list.reduce((sum, b) => sum + b.scheduler.queueLength, 0);
  }

  lease(id: string): LeaseRecord | undefined {
    for (const b of this.list) {
      const found = b.scheduler.lease(id);
      if (found) return found;
    }
    return undefined;
  }

  /** Where lease `id` lives, or undefined. */
  leaseBackend(id: string): string | undefined {
    return this.list.find((b) => b.scheduler.lease(id) !== undefined)?.name;
  }

  /** Every lease: back-end by back-end, each in submission order. */
  allLeases(): readonly LeaseRecord[] {
    return this.list.length === 1 ? this.primary.allLeases() : this.list.flatMap((b) => b.scheduler.allLeases());
  }

  nextEventTime(): number {
    let next = Infinity;
    for (const b of this.list) next = Math.min(next, b.scheduler.nextEventTime());
    return next;
  }

  /** A request naming a back-end the site does not have is refused here, as the core refuses what it cannot take. */
  unknownBackend(req: Pick<LeaseRequest, 'backend'>): Refusal | null {
    if (req.backend === undefined || this.scheduler(req.backend)) return null;
    return { ok: false, code: 'invalid', message: `no back-end '${req.backend}': this site has ${this.names.join(', ')}` };
  }

  submit(req: LeaseRequest, now: number, plan?: Plan): Done {
    const unknown = this.unknownBackend(req) ?? this.takenElsewhere(req.id);
    if (unknown) return unknown;
    return this.of(req).submit(req, now, plan);
  }

  plan(req: LeaseRequest, now: number, maxAlternatives = 3): Plan {
    return this.of(req).plan(req, now, maxAlternatives);
  }

  quote(req: LeaseRequest, now: number, maxAlternatives = 3): Quote {
    return this.of(req).quote(req, now, maxAlternatives);
  }

  hold(req: LeaseRequest, now: number, ttlSeconds: number, plan?: Plan): Decision | Refusal {
    const unknown = this.unknownBackend(req) ?? this.takenElsewhere(req.id);
    if (unknown) return unknown;
    return this.of(req).hold(req, now, ttlSeconds, plan);
  }

  commit(id: string, now: number): Decision | Refusal {
    return this.holding(id).commit(id, now);
  }

  cancel(id: string, now: number): Done {
    return this.holding(id).cancel(id, now);
  }

  finishEarly(id: string, now: number): Done {
    return this.holding(id).finishEarly(id, now);
  }

  suspendByOwner(id: string, now: number): Done {
    return this.holding(id).suspendByOwner(id, now);
  }

  resumeByOwner(id: string, now: number): Done {
    return this.holding(id).resumeByOwner(id, now);
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
    return scheduler.liveMigrationRefusal(id, toNodes, now);
  }

  migrateLive(id: string, toNodes: readonly number[], now: number): Done {
    const refusal = this.list.length > 1 ? this.liveMigrationRefusal(id, toNodes, now) : null;
    if (refusal) return refusal;
    return this.holding(id).migrateLive(id, toNodes, now);
  }

  /** Adds a node to back-end `backend` (the pool's by default); answers its index. */
  addNode(spec: NodeSpec, now: number, backend: string = this.list[0].name): number {
    const b = this.list.findIndex((x) => x.name === backend);
    if (b < 0) throw new RangeError(`no back-end '${backend}': this site has ${this.names.join(', ')}`);
    let n = -1;
    for (const x of this.list) n = x.scheduler.addNode(spec, now);
    this.nodeSpecs.push(spec);
    this.nodeOwner.push(b);
    this.closeElsewhere(n, b, now);
    return n;
  }

  closeNode(n: number, now: number): Done<{ requeued: string[]; stillPlanned: string[] }> {
    return this.owning(n).closeNode(n, now);
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
    return this.owning(n).loseNode(n, now);
  }

  regainNode(n: number, now: number): void {
    this.owning(n).regainNode(n, now);
  }

  /** Figures measured on the pool's nodes: the pool plans with them; other back-ends keep their own. */
  setCosts(figures: CostFigures, now: number): Done {
    return this.primary.setCosts(figures, now);
  }

  /** The leases that hold or plan reservations on node n. */
  reservationsOn(n: number): ReturnType<Scheduler['table']['reservationsOn']> {
    return this.owning(n).table.reservationsOn(n);
  }

  /** How many open nodes of the back-end have room for one VM of this shape. */
  openNodesThatFit(backend: string, cpu: number, memoryMiB: number): number {
    return this.scheduler(backend)?.table.openNodesThatFit(cpu, memoryMiB) ?? 0;
  }

  trackChanges(): void {
    for (const b of this.list) b.scheduler.trackChanges();
  }

  /** Every back-end at `now`, one after another (they share nothing but the clock). */
  advance(now: number): StepResult {
    if (this.list.length === 1) return this.primary.advance(now);
    const steps = this.list.map((b) => b.scheduler.advance(now));
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

  private of(req: Pick<LeaseRequest, 'backend'>): Scheduler {
    const found = this.scheduler(this.backendOf(req));
    if (!found) throw new RangeError(`no back-end '${req.backend}': this site has ${this.names.join(', ')}`);
    return found;
  }

  /** The scheduler holding lease `id`; the pool's for an id nobody has (it answers not-found). */
  private holding(id: string): Scheduler {
    return this.list.find((b) => b.scheduler.lease(id) !== undefined)?.scheduler ?? this.primary;
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
