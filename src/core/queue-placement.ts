import { chooseNodes, type FreeProfile, freeProfile, type NodeChoice, profileHolds } from './node-choice.ts';
import type { ImageDeployment } from './image-deployment.ts';
import { type LeaseRecord, remainingWork } from './lease-record.ts';
import type { PlanContext } from './plan-context.ts';
import type { LeaseRequest } from './types.ts';

/** Where and how a queued lease's next chain goes: from t on `nodes`, whole or cut short at `end` by a suspension. */
export interface ChainSpec {
  t: number;
  nodes: number[];
  end: number;
  full: boolean;
  moved: boolean;
  transferStart: number | null;
}

/**
 * Finds places for queued (best-effort and suspended) leases. Reads the scheduler's state and
 * changes nothing but its cache of free profiles, which holds while the state's version and the
 * current instant stay the same.
 */
export class QueuePlacement {
  /** How long each node that could take a lease of a shape stays free from t, longest first. */
  private profiles: Array<{ cpu: number; memoryMiB: number; image: string | null; profile: FreeProfile }> = [];
  private profilesAt = { version: -1, now: -1 };

  constructor(private readonly ctx: PlanContext, private readonly images: ImageDeployment) {}

  /** The shortest chain a lease could accept: its overheads and a suspension if it may be cut short, else all of it. */
  shortestAcceptableChain(lease: LeaseRecord): number {
    const suspended = lease.state === 'suspended' && lease.suspendedOn !== null;
    const cut = this.ctx.config.preemption === 'suspend' && lease.req.preemptible;
    const pre = suspended ? this.ctx.costs.resumeSeconds(lease.req) : this.ctx.config.bootSeconds;
    return cut
      ? Math.max(this.ctx.costs.suspendThreshold(lease.req, lease.state === 'suspended'), pre + this.ctx.costs.suspendSeconds(lease.req) + 1)
      : pre + remainingWork(lease) + this.ctx.config.shutdownSeconds;
  }

  /**
   * Whether n nodes have room at t for at least the shortest acceptable chain: a necessary
   * condition, checked against a per-shape list of how long each node stays free from t,
   * computed once and kept while the state does not change.
   */
  windowAtLeast(lease: LeaseRecord, t: number, now: number): boolean {
    const image = this.imageNeededBefore(lease, t, now);
    if (image !== null && this.images.holderCount(image) < lease.req.nodes) return false;
    return profileHolds(this.profileFor(lease, t, now, image), lease.req.nodes, this.shortestAcceptableChain(lease));
  }

  /** The image a fresh lease would need to find already cached on its nodes to start at t, or null if any node will do. */
  imageNeededBefore(lease: LeaseRecord, t: number, now: number): string | null {
    return lease.state !== 'suspended' && this.ctx.costs.needsTransfer(lease.req) && this.imageArrival(lease.req, now) > t ? lease.req.image!.id : null;
  }

  /** The free profile at t for the lease's shape, kept while the state does not change. */
  profileFor(lease: LeaseRecord, t: number, now: number, image: string | null): FreeProfile {
    const { cpu, memoryMiB } = lease.req.perNode;
    if (this.profilesAt.version !== this.ctx.version || this.profilesAt.now !== now) {
      this.profiles = [];
      this.profilesAt = { version: this.ctx.version, now };
    }
    for (const p of this.profiles) if (p.profile.t === t && p.cpu === cpu && p.memoryMiB === memoryMiB && p.image === image) return p.profile;
    const eligible = image === null ? undefined : (i: number) => this.images.readyBy(lease.req, i, t);
    const profile = freeProfile(this.ctx.table, { t, cpu, memoryMiB, eligible, onlyFreeNow: t === now });
    if (this.profiles.length >= 16) this.profiles = [];
    this.profiles.push({ cpu, memoryMiB, image, profile });
    return profile;
  }

  /** When an image sent now (in the link's first free slot) would be on the nodes. */
  imageArrival(req: LeaseRequest, now: number): number {
    const seconds = this.ctx.costs.transferSeconds(req);
    return this.ctx.link.earliestSlot(now, seconds) + seconds;
  }

  /** A lower bound on the start of a lease that cannot start near now: when enough nodes open up for its shortest acceptable chain. */
  earliestPossibleStart(lease: LeaseRecord, from: number, now: number): number {
    const req = lease.req;
    const suspended = lease.state === 'suspended' && lease.suspendedOn !== null;
    const length = this.shortestAcceptableChain(lease);
    let notBefore: ((n: number) => number) | undefined;
    if (!suspended && this.ctx.costs.needsTransfer(req)) {
      const imageBy = this.imageArrival(req, now);
      notBefore = (n) => Math.min(this.images.readyAt(req.image!.id, n) ?? Infinity, imageBy);
    }
    // Where the lease was placed before it was taken back to be placed again is usually still
    // free: a sweep that leaves out windows opening later is much shorter.
    const hint = lease.lastPlannedStart;
    if (hint !== null && hint >= from) {
      const t = this.ctx.table.earliestWindow(req.nodes, req.perNode.cpu, req.perNode.memoryMiB, length, from, { notBefore, latestStart: hint });
      if (t !== Infinity) return t;
    }
    return this.ctx.table.earliestWindow(req.nodes, req.perNode.cpu, req.perNode.memoryMiB, length, from, { notBefore });
  }

  /**
   * Whether a fresh lease placed whole in the future by backfilling would be placed exactly where
   * it is if it were taken back and placed again now. Told without a search, and only when each
   * node, once it has room, keeps it (its free windows are [a, Infinity)): placing again would then
   * start the lease at the n-th smallest a, on the first n nodes by index with a at or before that
   * start, whole. When no other reservation is still to begin, and capacity was given back since
   * the lease was placed (or last found to stay put) only before `freedUntil` < its start, that
   * cannot have changed: only a's already below the start were lowered. Otherwise it is checked
   * node by node. A lease that needs an image moved, or has run before, is placed again.
   */
  staysPut(lease: LeaseRecord, now: number, freedUntil: number): boolean {
    const chain = lease.chain;
    // Never begun: a lease that has run was placed under other rules (its nodes, its resume), even with a chain that starts with a run.
    if (lease.state !== 'scheduled' || chain.length === 0 || lease.firstStart !== null) return false;
    if (lease.req.image !== undefined && this.ctx.config.images === 'transfer') return false;
    const start = chain[0].start;
    if (start <= now || !this.isWholeChain(lease)) return false;
    if (freedUntil < start && this.ctx.table.pendingReservations === chain.length) return true;
    const { table } = this.ctx;
    const { nodes: k, perNode: { cpu, memoryMiB } } = lease.req;
    const chosen = chain[0].nodes;
    let before = 0;
    let matched = 0;
    for (let n = 0; n < table.size; n++) {
      const a = table.roomForGoodFrom(n, now, cpu, memoryMiB, lease.req.id);
      if (a === null) return false;
      if (a > start) continue;
      if (a < start && ++before >= k) return false;
      if (matched < k && chosen[matched++] !== n) return false;
    }
    return matched === k;
  }

  /** Whether a fresh lease's chain is what buildChain lays out when it fits whole: boot, all its work, shutdown. */
  private isWholeChain(lease: LeaseRecord): boolean {
    if (lease.chainEndsIn !== 'finish') return false;
    const { bootSeconds, shutdownSeconds } = this.ctx.config;
    const lengths: Array<[string, number]> = [['boot', bootSeconds], ['run', remainingWork(lease)], ['shutdown', shutdownSeconds]];
    let i = 0;
    let t = lease.chain[0].start;
    for (const [kind, seconds] of lengths) {
      if (seconds <= 0) continue;
      const seg = lease.chain[i++];
      if (!seg || seg.kind !== kind || seg.start !== t || seg.end !== t + seconds) return false;
      t += seconds;
    }
    return i === lease.chain.length;
  }

  /** Times at which a queued lease could start without waiting for others: now, and when its image could arrive. */
  nearTimes(lease: LeaseRecord, now: number): number[] {
    const req = lease.req;
    if (!this.ctx.costs.needsTransfer(req) || lease.state === 'suspended') return [now];
    const t = this.imageArrival(req, now);
    return t > now ? [now, t] : [now];
  }

  findChainAt(lease: LeaseRecord, t: number, now: number, mayCut: boolean): ChainSpec | null {
    const req = lease.req;
    const suspended = lease.state === 'suspended' && lease.suspendedOn !== null;
    const cut = mayCut && this.ctx.config.preemption === 'suspend' && req.preemptible;
    const threshold = this.ctx.costs.suspendThreshold(lease.req, lease.state === 'suspended');
    const suspendTime = this.ctx.costs.suspendSeconds(lease.req);
    // A cut-short chain must still hold its overheads, a suspension and at least one second of run.
    const minLengthWith = (pre: number): number | null => (cut ? Math.max(threshold, pre + suspendTime + 1) : null);
    const transferStart = this.ctx.costs.needsTransfer(req) && !suspended ? this.ctx.link.earliestSlot(now, this.ctx.costs.transferSeconds(req)) : null;
    const profile = this.profileFor(lease, t, now, this.imageNeededBefore(lease, t, now));
    const base = { n: req.nodes };
    const tail = remainingWork(lease) + this.ctx.config.shutdownSeconds;
    const spec = (choice: NodeChoice | null, moved: boolean, fullLength: number): ChainSpec | null => {
      if (!choice) return null;
      const full = choice.end >= t + fullLength;
      const needsTransfer = transferStart !== null && choice.nodes.some((i) => !this.images.readyBy(req, i, t));
      return { t, nodes: choice.nodes, end: full ? t + fullLength : choice.end, full, moved, transferStart: needsTransfer ? transferStart : null };
    };
    if (!suspended) {
      const boot = this.ctx.config.bootSeconds;
      return spec(chooseNodes(profile, { ...base, fullLength: boot + tail, minLength: minLengthWith(boot) }), false, boot + tail);
    }
    const home = lease.suspendedOn!;
    const homeSet = new Set(home);
    const atHome = (i: number): boolean => homeSet.has(i);
    const resume = this.ctx.costs.resumeSeconds(lease.req);
    const migrate = this.ctx.costs.migrateSeconds(lease.req);
    const stayLength = resume + tail;
    const moveLength = migrate + stayLength;
    const stay = (minLength: number | null) => chooseNodes(profile, { ...base, fullLength: stayLength, minLength, eligible: atHome, preferred: home });
    const move = (minLength: number | null) => chooseNodes(profile, { ...base, fullLength: moveLength, minLength, preferred: home });
    const stayFull = stay(null);
    if (stayFull) return spec(stayFull, false, stayLength);
    if (!this.ctx.config.migration) return spec(stay(minLengthWith(resume)), false, stayLength);
    const moveFull = move(null);
    if (moveFull) return spec(moveFull, !sameNodes(moveFull.nodes, home), moveLength);
    if (!cut) return null;
    const stayCut = stay(minLengthWith(resume));
    if (stayCut) return spec(stayCut, false, stayLength);
    const moveCut = move(minLengthWith(migrate + resume));
    return spec(moveCut, moveCut !== null && !sameNodes(moveCut.nodes, home), moveLength);
  }
}

function sameNodes(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(b);
  return a.every((x) => s.has(x));
}
