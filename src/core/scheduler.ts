import { BoundaryHeap } from './boundary-heap.ts';
import type { SchedulerConfig } from './config.ts';
import { secondsToMove, stretchedSeconds } from './costs.ts';
import { ImageCache } from './image-cache.ts';
import { type LeaseRecord, newLeaseRecord, queueBefore, remainingWork } from './lease-record.ts';
import { chooseNodes, type FreeProfile, freeProfile, type NodeChoice, profileHolds } from './node-choice.ts';
import { orderVictims, PREEMPTION_POLICIES, type PreemptionPolicy, type VictimCandidate } from './preemption-policy.ts';
import type { Segment } from './segment.ts';
import { SlotTable } from './slot-table.ts';
import { TransferLink } from './transfer-link.ts';
import type { LeaseRequest, NodeSpec, RejectReason, SegmentKind } from './types.ts';

const END = 0;
const START = 1;

export type Decision =
  | { ok: true; leaseId: string; state: 'queued' | 'scheduled' }
  | { ok: false; leaseId: string; reason: RejectReason; message: string };

/** What became true at one instant: the plan's actions that took effect. */
export interface StepResult {
  now: number;
  started: Segment[];
  ended: Segment[];
  completed: LeaseRecord[];
  decisions: Decision[];
}

interface ChainSpec {
  t: number;
  nodes: number[];
  end: number;
  full: boolean;
  moved: boolean;
  transferStart: number | null;
}

/**
 * The lease scheduler. Deterministic: state changes only through submit / finishEarly /
 * advance, each given the current time; no clock, no I/O.
 */
export class Scheduler {
  readonly config: SchedulerConfig;
  readonly table: SlotTable;
  readonly link = new TransferLink();
  private readonly caches: ImageCache[];
  /** Which nodes have (or are being sent) each image. */
  private readonly imageHolders = new Map<string, Set<number>>();
  private readonly policy: PreemptionPolicy;
  private readonly leases = new Map<string, LeaseRecord>();
  private readonly order: LeaseRecord[] = [];
  private queue: LeaseRecord[] = [];
  private pending: LeaseRecord[] = [];
  private readonly heap = new BoundaryHeap<Segment>();
  private readonly future = new Set<LeaseRecord>();
  /** How long each node that could take a lease of a shape stays free from t, longest first; dropped when the table changes. */
  private profiles: Array<{ cpu: number; memoryMiB: number; image: string | null; profile: FreeProfile }> = [];
  private mustReevaluate = false;
  private seq = 0;
  private now = 0;
  private steps = 0;
  private result: StepResult | null = null;
  private startedBuffer: Segment[] = [];
  private completedBuffer: LeaseRecord[] = [];
  private readonly maxNodesPerLease: (cpu: number, mem: number) => number;

  constructor(nodes: readonly NodeSpec[], config: SchedulerConfig) {
    if (nodes.length === 0) throw new RangeError('the pool has no nodes');
    this.config = config;
    this.table = new SlotTable(nodes);
    this.caches = nodes.map((_, n) => new ImageCache(config.imageCacheMiB, (image, present) => this.noteImage(image, n, present)));
    const policy = PREEMPTION_POLICIES[config.preemptionPolicy];
    if (!policy) throw new RangeError(`unknown preemption policy '${config.preemptionPolicy}'; use one of ${Object.keys(PREEMPTION_POLICIES).join(', ')}`);
    this.policy = policy;
    this.maxNodesPerLease = (cpu, mem) => nodes.filter((n) => n.cpu >= cpu && n.memoryMiB >= mem).length;
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

  /** The next instant at which a planned segment starts or ends, Infinity if none. */
  nextEventTime(): number {
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
    const heldUntil = lease.chain[lease.chain.length - 1].end;
    this.now = now;
    this.cutChainAfter(lease, run);
    this.truncate(run, now);
    lease.work = lease.done;
    lease.chainEndsIn = 'finish';
    this.placeShutdown(lease, now, heldUntil, run.nodes);
    this.settleIfChainDone(lease, now);
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

  /** Applies everything that happens at `now`, then decides pending requests and the queue. */
  advance(now: number): StepResult {
    if (now < this.now) throw new RangeError(`time went backwards: ${now} < ${this.now}`);
    this.now = now;
    const result: StepResult = { now, started: this.startedBuffer, ended: [], completed: this.completedBuffer, decisions: [] };
    this.startedBuffer = [];
    this.completedBuffer = [];
    this.result = result;
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
      else this.startSegment(seg);
    }
  }

  private startSegment(seg: Segment): void {
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
    const lease = this.mustGet(seg.leaseId);
    this.table.deactivate(seg);
    result.ended.push(seg);
    if (seg.kind === 'run') lease.done += seg.end - seg.start;
    const i = lease.chain.indexOf(seg);
    if (i >= 0) lease.chain.splice(i, 1);
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
      this.enqueue(lease);
    } else {
      this.complete(lease, at);
      (this.result?.completed ?? this.completedBuffer).push(lease);
    }
  }

  private complete(lease: LeaseRecord, at: number): void {
    lease.state = 'completed';
    lease.endedAt = at;
    this.releaseImage(lease);
  }

  // ---- requests ----

  private decidePending(now: number, result: StepResult): void {
    const pending = this.pending;
    this.pending = [];
    for (const lease of pending) {
      const { req } = lease;
      const fit = this.maxNodesPerLease(req.perNode.cpu, req.perNode.memoryMiB);
      if (req.nodes > fit) {
        result.decisions.push(this.reject(lease, 'exceeds-pool', `asks for ${req.nodes} nodes with ${req.perNode.cpu} CPU and ${req.perNode.memoryMiB} MiB each; the pool has ${fit} such nodes`));
        continue;
      }
      if (req.kind === 'best-effort') {
        this.enqueue(lease);
        result.decisions.push({ ok: true, leaseId: req.id, state: 'queued' });
      } else if (req.kind === 'exact') {
        result.decisions.push(this.reserveExact(lease, now));
      } else if (req.kind === 'immediate') {
        result.decisions.push(this.startImmediately(lease, now));
      } else {
        result.decisions.push(this.reject(lease, 'policy', `lease kind '${req.kind}' is not supported by this scheduler yet`));
      }
    }
  }

  private reject(lease: LeaseRecord, reason: RejectReason, message: string): Decision {
    lease.state = 'rejected';
    lease.rejectReason = reason;
    return { ok: false, leaseId: lease.req.id, reason, message };
  }

  private startImmediately(lease: LeaseRecord, now: number): Decision {
    const spec = this.findChainAt(lease, now, now, false);
    if (!spec) return this.reject(lease, 'insufficient-capacity', `no ${lease.req.nodes} nodes are free now for ${lease.req.duration} s`);
    this.buildChain(lease, spec, now);
    return { ok: true, leaseId: lease.req.id, state: 'scheduled' };
  }

  // ---- advance reservations ----

  private reserveExact(lease: LeaseRecord, now: number): Decision {
    const { req } = lease;
    const start = req.requestedStart ?? now;
    const boot = this.config.bootSeconds;
    const from = start - boot;
    if (from < now) {
      return this.reject(lease, 'too-late', `must start at ${start} but its ${boot} s boot cannot begin before now (${now})`);
    }
    const to = start + lease.work + this.config.shutdownSeconds;
    const transfer = this.transferForDeadline(req, now, from);
    const eligible = (i: number): boolean => this.imageReadyBy(req, i, from) || transfer !== null;
    const shape = { t: from, cpu: req.perNode.cpu, memoryMiB: req.perNode.memoryMiB, eligible };
    const ask = { n: req.nodes, fullLength: to - from, minLength: null };
    let choice = chooseNodes(freeProfile(this.table, { ...shape, onlyFreeNow: from === now }), ask);
    let victims: string[] = [];
    if (!choice) {
      const candidates = this.victimCandidates(from, to, now);
      const ignore = new Set<string>();
      for (const v of orderVictims(this.policy, candidates)) {
        ignore.add(v.leaseId);
        choice = chooseNodes(freeProfile(this.table, { ...shape, onlyFreeNow: false, ignore, ignoreFrom: from }), ask);
        if (choice) break;
      }
      if (!choice) {
        return this.reject(lease, 'insufficient-capacity', `${req.nodes} nodes cannot be freed for [${start}, ${start + req.duration})`);
      }
      victims = this.victimsOn(choice.nodes, from, to, ignore);
      for (const v of victims) this.preempt(this.mustGet(v), from, now);
    }
    const needsTransfer = transfer !== null && choice.nodes.some((i) => !this.imageReadyBy(req, i, from));
    this.buildChain(lease, { t: from, nodes: choice.nodes, end: to, full: true, moved: false, transferStart: needsTransfer ? transfer : null }, now);
    return { ok: true, leaseId: req.id, state: 'scheduled' };
  }

  private victimCandidates(from: number, to: number, now: number): VictimCandidate[] {
    const seen = new Set<string>();
    const out: VictimCandidate[] = [];
    for (let n = 0; n < this.table.size; n++) {
      for (const id of this.table.leasesOverlapping(n, from, to)) {
        if (seen.has(id)) continue;
        seen.add(id);
        const l = this.mustGet(id);
        if (!this.isPreemptible(l)) continue;
        const running = l.chain.find((s) => s.kind === 'run' && s.active);
        out.push({
          leaseId: id, arrival: l.req.arrival, seq: l.seq,
          workAtRisk: this.config.preemption === 'suspend' ? 0 : l.done + (running ? now - running.start : 0),
          memoryMiB: l.req.perNode.memoryMiB * l.req.nodes,
        });
      }
    }
    return out;
  }

  private isPreemptible(lease: LeaseRecord): boolean {
    return lease.req.preemptible && lease.req.kind === 'best-effort';
  }

  private victimsOn(nodes: readonly number[], from: number, to: number, ignore: ReadonlySet<string>): string[] {
    const out: string[] = [];
    for (const n of nodes) for (const id of this.table.leasesOverlapping(n, from, to)) if (ignore.has(id) && !out.includes(id)) out.push(id);
    return out.sort((a, b) => this.mustGet(a).seq - this.mustGet(b).seq);
  }

  /** Makes a lease give up its resources from `at` on: suspended before it, or cancelled and queued again. */
  private preempt(lease: LeaseRecord, at: number, now: number): void {
    lease.preemptions++;
    const chain = lease.chain;
    if (chain.length === 0) return;
    if (remainingWork(lease) <= 0) {
      this.powerOffAt(lease, at);
      return;
    }
    if (chain[0].start >= at) {
      this.unschedule(lease, now);
      return;
    }
    if (this.config.preemption === 'suspend' && this.trySuspendBy(lease, at, now)) return;
    if (chain[0].start >= now && !chain[0].active) this.unschedule(lease, now);
    else this.restartLosingWork(lease, now);
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

  private trySuspendBy(lease: LeaseRecord, at: number, now: number): boolean {
    const s = this.suspendSeconds(lease);
    const runIdx = findLastIndex(lease.chain, (seg) => seg.kind === 'run' && seg.start < at);
    if (runIdx < 0) return false;
    const run = lease.chain[runIdx];
    const suspendAt = at - s;
    if (suspendAt < now || suspendAt <= run.start) return false;
    if (at - run.start < this.suspendThreshold(lease)) return false;
    this.cutChainAfter(lease, run);
    this.truncate(run, suspendAt);
    lease.chainEndsIn = 'suspend';
    if (s > 0) lease.chain.push(this.place(lease, 'suspend', suspendAt, at, run.nodes));
    this.settleIfChainDone(lease, at, run.nodes);
    return true;
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
    this.profiles = [];
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
    const times = this.nearTimes(lease, now);
    for (const t of times) {
      if (t === now && req.nodes > this.table.nodesNotFullNow) continue;
      if (!this.windowAtLeast(lease, t, now)) continue;
      const spec = this.findChainAt(lease, t, now, true);
      if (spec) {
        this.buildChain(lease, spec, now);
        return true;
      }
    }
    if (!allowFuture) return false;
    const bound = this.earliestPossibleStart(lease, times[times.length - 1], now);
    if (bound === Infinity) throw new Error(`internal: best-effort lease ${req.id} can never start`);
    let spec = this.findChainAt(lease, bound, now, true);
    // The bound ignores which nodes a suspended lease prefers and its images; later ends are tried only if it misses.
    for (const t of spec ? [] : this.table.endsAfter(bound)) {
      spec = this.findChainAt(lease, t, now, true);
      if (spec) break;
    }
    if (spec) {
      lease.lastPlannedStart = null;
      this.buildChain(lease, spec, now);
      lease.inFuture = true;
      this.future.add(lease);
      return true;
    }
    throw new Error(`internal: no place found for best-effort lease ${req.id} even after every reservation ends`);
  }

  /** The shortest chain a lease could accept: its overheads and a suspension if it may be cut short, else all of it. */
  private shortestAcceptableChain(lease: LeaseRecord): number {
    const suspended = lease.state === 'suspended' && lease.suspendedOn !== null;
    const cut = this.config.preemption === 'suspend' && lease.req.preemptible;
    const pre = suspended ? this.resumeSeconds(lease) : this.config.bootSeconds;
    return cut
      ? Math.max(this.suspendThreshold(lease), pre + this.suspendSeconds(lease) + 1)
      : pre + remainingWork(lease) + this.config.shutdownSeconds;
  }

  /**
   * Whether n nodes have room at t for at least the shortest acceptable chain: a necessary
   * condition, checked against a per-shape list of how long each node stays free from t,
   * computed once and kept until the table changes.
   */
  private windowAtLeast(lease: LeaseRecord, t: number, now: number): boolean {
    const image = this.imageNeededBefore(lease, t, now);
    if (image !== null && (this.imageHolders.get(image)?.size ?? 0) < lease.req.nodes) return false;
    return profileHolds(this.profileFor(lease, t, now, image), lease.req.nodes, this.shortestAcceptableChain(lease));
  }

  /** The image a fresh lease would need to find already cached on its nodes to start at t, or null if any node will do. */
  private imageNeededBefore(lease: LeaseRecord, t: number, now: number): string | null {
    return lease.state !== 'suspended' && this.needsTransfer(lease.req) && this.imageArrival(lease.req, now) > t ? lease.req.image!.id : null;
  }

  /** The free profile at t for the lease's shape, kept until the table changes. */
  private profileFor(lease: LeaseRecord, t: number, now: number, image: string | null): FreeProfile {
    const { cpu, memoryMiB } = lease.req.perNode;
    for (const p of this.profiles) if (p.profile.t === t && p.cpu === cpu && p.memoryMiB === memoryMiB && p.image === image) return p.profile;
    const eligible = image === null ? undefined : (i: number) => this.imageReadyBy(lease.req, i, t);
    const profile = freeProfile(this.table, { t, cpu, memoryMiB, eligible, onlyFreeNow: t === now });
    if (this.profiles.length >= 16) this.profiles = [];
    this.profiles.push({ cpu, memoryMiB, image, profile });
    return profile;
  }

  /** When an image sent now (in the link's first free slot) would be on the nodes. */
  private imageArrival(req: LeaseRequest, now: number): number {
    const seconds = this.transferSeconds(req);
    return this.link.earliestSlot(now, seconds) + seconds;
  }

  /** A lower bound on the start of a lease that cannot start near now: when enough nodes open up for its shortest acceptable chain. */
  private earliestPossibleStart(lease: LeaseRecord, from: number, now: number): number {
    const req = lease.req;
    const suspended = lease.state === 'suspended' && lease.suspendedOn !== null;
    const length = this.shortestAcceptableChain(lease);
    let notBefore: ((n: number) => number) | undefined;
    if (!suspended && this.needsTransfer(req)) {
      const imageBy = this.imageArrival(req, now);
      notBefore = (n) => Math.min(this.caches[n].readyAt(req.image!.id) ?? Infinity, imageBy);
    }
    // Where the lease was placed before it was taken back to be placed again is usually still
    // free: a sweep that leaves out windows opening later is much shorter.
    const hint = lease.lastPlannedStart;
    if (hint !== null && hint >= from) {
      const t = this.table.earliestWindow(req.nodes, req.perNode.cpu, req.perNode.memoryMiB, length, from, notBefore, hint);
      if (t !== Infinity) return t;
    }
    return this.table.earliestWindow(req.nodes, req.perNode.cpu, req.perNode.memoryMiB, length, from, notBefore);
  }

  /** Times at which a queued lease could start without waiting for others: now, and when its image could arrive. */
  private nearTimes(lease: LeaseRecord, now: number): number[] {
    const req = lease.req;
    if (!this.needsTransfer(req) || lease.state === 'suspended') return [now];
    const t = this.imageArrival(req, now);
    return t > now ? [now, t] : [now];
  }

  private findChainAt(lease: LeaseRecord, t: number, now: number, mayCut: boolean): ChainSpec | null {
    const req = lease.req;
    const suspended = lease.state === 'suspended' && lease.suspendedOn !== null;
    const cut = mayCut && this.config.preemption === 'suspend' && req.preemptible;
    const threshold = this.suspendThreshold(lease);
    const suspendTime = this.suspendSeconds(lease);
    // A cut-short chain must still hold its overheads, a suspension and at least one second of run.
    const minLengthWith = (pre: number): number | null => (cut ? Math.max(threshold, pre + suspendTime + 1) : null);
    const transferStart = this.needsTransfer(req) && !suspended ? this.link.earliestSlot(now, this.transferSeconds(req)) : null;
    const profile = this.profileFor(lease, t, now, this.imageNeededBefore(lease, t, now));
    const base = { n: req.nodes };
    const tail = remainingWork(lease) + this.config.shutdownSeconds;
    const spec = (choice: NodeChoice | null, moved: boolean, fullLength: number): ChainSpec | null => {
      if (!choice) return null;
      const full = choice.end >= t + fullLength;
      const needsTransfer = transferStart !== null && choice.nodes.some((i) => !this.imageReadyBy(req, i, t));
      return { t, nodes: choice.nodes, end: full ? t + fullLength : choice.end, full, moved, transferStart: needsTransfer ? transferStart : null };
    };
    if (!suspended) {
      const boot = this.config.bootSeconds;
      return spec(chooseNodes(profile, { ...base, fullLength: boot + tail, minLength: minLengthWith(boot) }), false, boot + tail);
    }
    const home = lease.suspendedOn!;
    const homeSet = new Set(home);
    const atHome = (i: number): boolean => homeSet.has(i);
    const resume = this.resumeSeconds(lease);
    const migrate = this.migrateSeconds(lease);
    const stayLength = resume + tail;
    const moveLength = migrate + stayLength;
    const stay = (minLength: number | null) => chooseNodes(profile, { ...base, fullLength: stayLength, minLength, eligible: atHome, preferred: home });
    const move = (minLength: number | null) => chooseNodes(profile, { ...base, fullLength: moveLength, minLength, preferred: home });
    const stayFull = stay(null);
    if (stayFull) return spec(stayFull, false, stayLength);
    if (!this.config.migration) return spec(stay(minLengthWith(resume)), false, stayLength);
    const moveFull = move(null);
    if (moveFull) return spec(moveFull, !sameNodes(moveFull.nodes, home), moveLength);
    if (!cut) return null;
    const stayCut = stay(minLengthWith(resume));
    if (stayCut) return spec(stayCut, false, stayLength);
    const moveCut = move(minLengthWith(migrate + resume));
    return spec(moveCut, moveCut !== null && !sameNodes(moveCut.nodes, home), moveLength);
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
      if (spec.moved) add('migrate', this.migrateSeconds(lease));
      add('resume', this.resumeSeconds(lease));
    }
    if (spec.full) {
      add('run', remainingWork(lease));
      add('shutdown', this.config.shutdownSeconds);
      lease.chainEndsIn = 'finish';
    } else {
      const s = this.suspendSeconds(lease);
      add('run', spec.end - s - t);
      add('suspend', s);
      lease.chainEndsIn = 'suspend';
    }
    if (spec.transferStart !== null) this.deployImage(lease, nodes, spec.transferStart, now);
    else if (lease.req.image && this.config.images === 'transfer' && !suspended) this.takeCachedImage(lease, nodes, now);
    if (suspended) lease.suspendedOn = null;
  }

  private place(lease: LeaseRecord, kind: SegmentKind, start: number, end: number, nodes: readonly number[]): Segment {
    this.profiles = [];
    const seg = this.table.reserve(lease.req.id, kind, start, end, nodes, lease.req.perNode.cpu, lease.req.perNode.memoryMiB);
    lease.history.push(seg);
    this.heap.push(end, END, seg);
    if (start <= this.now) this.startSegment(seg);
    else this.heap.push(start, START, seg);
    return seg;
  }

  private truncate(seg: Segment, end: number): void {
    this.profiles = [];
    seg.end = end;
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
    this.profiles = [];
    if (seg.active || seg.start < this.now) {
      this.truncate(seg, Math.min(seg.end, this.now));
      return;
    }
    this.table.release(seg);
    const h = lease.history.lastIndexOf(seg);
    if (h >= 0) lease.history.splice(h, 1);
  }

  /** Takes a lease that has not begun its chain back to the queue, keeping its work. */
  private unschedule(lease: LeaseRecord, now: number): void {
    const wasSuspendedOn = lease.chain.length > 0 && lease.chain[0].kind !== 'boot' && lease.chain[0].kind !== 'run' ? this.previousMemoryNodes(lease) : null;
    for (const s of lease.chain) this.dropSegment(lease, s);
    lease.chain = [];
    if (lease.inFuture) {
      lease.inFuture = false;
      this.future.delete(lease);
    }
    this.link.cancel(lease.req.id, now);
    if (wasSuspendedOn) {
      lease.state = 'suspended';
      lease.suspendedOn = wasSuspendedOn;
    } else {
      this.releaseImage(lease);
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
    for (const s of [...lease.chain]) this.dropSegment(lease, s);
    lease.chain = [];
    lease.lost.push({ segments: lease.history });
    lease.history = [];
    lease.done = 0;
    lease.work = lease.req.kind === 'best-effort' ? stretchedSeconds(lease.req.duration, this.config.runtimeOverheadPercent) : lease.req.duration;
    lease.firstStart = null;
    lease.suspendedOn = null;
    if (lease.inFuture) {
      lease.inFuture = false;
      this.future.delete(lease);
    }
    this.link.cancel(lease.req.id, now);
    this.releaseImage(lease);
    lease.state = 'queued';
    this.enqueue(lease);
  }

  /** Leases placed in the future by backfilling get another chance once resources free up early. */
  private reevaluateFuture(now: number): void {
    this.mustReevaluate = false;
    if (this.future.size === 0) return;
    const again = [...this.future].sort((a, b) => a.seq - b.seq);
    for (const lease of again) {
      if (lease.chain.length === 0 || lease.chain[0].start <= now) continue;
      lease.lastPlannedStart = lease.chain[0].start;
      this.unschedule(lease, now);
    }
  }

  // ---- images ----

  private needsTransfer(req: LeaseRequest): boolean {
    return this.config.images === 'transfer' && req.image !== undefined && req.image.sizeMiB > 0;
  }

  private noteImage(imageId: string, node: number, present: boolean): void {
    let holders = this.imageHolders.get(imageId);
    if (!holders) this.imageHolders.set(imageId, (holders = new Set()));
    if (present) holders.add(node);
    else holders.delete(node);
  }

  private imageReadyBy(req: LeaseRequest, node: number, t: number): boolean {
    if (!this.needsTransfer(req)) return true;
    const at = this.caches[node].readyAt(req.image!.id);
    return at !== undefined && at <= t;
  }

  private transferSeconds(req: LeaseRequest): number {
    return secondsToMove(req.image?.sizeMiB ?? 0, this.config.imageBandwidthMBps);
  }

  /** The link slot for an image needed on the nodes by `by`, as late as possible. */
  private transferForDeadline(req: LeaseRequest, now: number, by: number): number | null {
    if (!this.needsTransfer(req)) return null;
    return this.link.latestSlot(now, by, this.transferSeconds(req));
  }

  private deployImage(lease: LeaseRecord, nodes: readonly number[], start: number, now: number): void {
    const img = lease.req.image!;
    const end = start + this.transferSeconds(lease.req);
    this.link.add({ leaseId: lease.req.id, imageId: img.id, start, end });
    for (const n of nodes) if (this.caches[n].acquire(img.id, img.sizeMiB, end, now)) lease.imageRefs.push(n);
  }

  private takeCachedImage(lease: LeaseRecord, nodes: readonly number[], now: number): void {
    const img = lease.req.image!;
    for (const n of nodes) if (this.caches[n].acquire(img.id, img.sizeMiB, now, now)) lease.imageRefs.push(n);
  }

  private releaseImage(lease: LeaseRecord): void {
    const img = lease.req.image;
    if (img) for (const n of lease.imageRefs) this.caches[n].release(img.id, this.now);
    lease.imageRefs = [];
  }

  // ---- costs ----

  private memoryOf(lease: LeaseRecord): number {
    return lease.req.perNode.memoryMiB;
  }

  private suspendSeconds(lease: LeaseRecord): number {
    return secondsToMove(this.memoryOf(lease), this.config.suspendRateMBps);
  }

  private resumeSeconds(lease: LeaseRecord): number {
    return secondsToMove(this.memoryOf(lease), this.config.resumeRateMBps);
  }

  private migrateSeconds(lease: LeaseRecord): number {
    return secondsToMove(this.memoryOf(lease) + (lease.req.image?.sizeMiB ?? 0), this.config.migrateBandwidthMBps);
  }

  private suspendThreshold(lease: LeaseRecord): number {
    const overhead = this.suspendSeconds(lease) + (lease.state === 'suspended' ? this.resumeSeconds(lease) : 0);
    return Math.max(1, overhead * (1 + this.config.suspendThresholdFactor));
  }

  private mustGet(id: string): LeaseRecord {
    const l = this.leases.get(id);
    if (!l) throw new Error(`internal: unknown lease ${id}`);
    return l;
  }
}

function findLastIndex<T>(xs: readonly T[], p: (x: T) => boolean): number {
  for (let i = xs.length - 1; i >= 0; i--) if (p(xs[i])) return i;
  return -1;
}

function sameNodes(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(b);
  return a.every((x) => s.has(x));
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
