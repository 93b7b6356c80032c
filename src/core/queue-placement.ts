import { bandwidthOf } from './bandwidth.ts';
import { type FreeProfile, freeProfile, profileHolds } from './free-profile.ts';
import { chooseAmong, chooseNodes, type NodeChoice } from './node-choice.ts';
import type { ImageDeployment } from './image-deployment.ts';
import { type LeaseRecord, remainingWork } from './lease-record.ts';
import type { PlanContext } from './plan-context.ts';
import { type Freed, StaysPut } from './stays-put.ts';
import type { LeaseRequest } from './types.ts';

/** Where and how a queued lease's next chain goes: from t on `nodes`, whole or cut short at `end` by a suspension. */
export interface ChainSpec {
  t: number;
  nodes: number[];
  end: number;
  full: boolean;
  moved: boolean;
  transferStart: number | null;
  /** For a cluster lease: each role's nodes (by role number); `nodes` then lists them member by member. */
  roleNodes?: number[][];
}

/**
 * Finds places for queued (best-effort and suspended) leases. Reads the scheduler's state and
 * changes nothing but its cache of free profiles, which holds while the state's version and the
 * current instant stay the same.
 */
export class QueuePlacement {
  /** How long each node that could take a lease of a shape stays free from t, and the image its nodes must hold (profileFor). */
  private readonly profiles: FreeProfile[] = [];
  private readonly profileImages: Array<string | null> = [];
  private profileCount = 0;
  private profilesVersion = -1;
  private profilesNow = -1;
  /** Profiles of the current instant for leases with no image to wait for, one per shape: followed from instant to instant rather than made again. */
  private readonly nowProfiles: FreeProfile[] = [];

  private readonly stays: StaysPut;
  private marks = new Uint8Array(0);

  constructor(private readonly ctx: PlanContext, private readonly images: ImageDeployment) {
    this.stays = new StaysPut(ctx);
  }

  /**
   * The shortest chain a lease could accept: all of it, or, if it may be cut short, its overheads
   * and a suspension when that is shorter. A chain that fits whole needs no suspension, however
   * long the threshold of a worthwhile cut: a short lease is not kept waiting for a window longer
   * than itself.
   */
  shortestAcceptableChain(lease: LeaseRecord): number {
    const suspended = lease.state === 'suspended' && lease.suspendedOn !== null;
    const cut = this.ctx.config.preemption === 'suspend' && lease.req.preemptible;
    const pre = suspended ? this.ctx.costs.resumeSeconds(lease.req) : this.ctx.config.bootSeconds;
    const whole = pre + remainingWork(lease) + this.ctx.config.shutdownSeconds;
    if (!cut) return whole;
    return Math.min(whole, Math.max(this.ctx.costs.suspendThreshold(lease.req, lease.state === 'suspended'), pre + this.ctx.costs.suspendSeconds(lease.req) + 1));
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
    const bandwidthMbps = bandwidthOf(lease.req.perNode);
    // Followed from instant to instant as CPU and memory's: only while bandwidth binds nowhere.
    if (t === now && image === null && !this.ctx.table.bandwidthBindsAnywhere(bandwidthMbps)) return this.nowProfile(cpu, memoryMiB, now);
    // Profiles of a state gone by are made again for the new one, keeping their arrays.
    if (this.profilesVersion !== this.ctx.version || this.profilesNow !== now) {
      this.profileCount = 0;
      this.profilesVersion = this.ctx.version;
      this.profilesNow = now;
    }
    for (let k = 0; k < this.profileCount; k++) {
      const p = this.profiles[k];
      if (p.t === t && p.cpu === cpu && p.memoryMiB === memoryMiB && p.bandwidthMbps === bandwidthMbps && this.profileImages[k] === image) return p;
    }
    const eligible = image === null ? undefined : (i: number) => this.images.readyBy(lease.req, i, t);
    const ask = { t, cpu, memoryMiB, bandwidthMbps, eligible, onlyFreeNow: t === now };
    if (this.profileCount >= 16) this.profileCount = 0;
    const k = this.profileCount++;
    if (k === this.profiles.length) this.profiles.push(freeProfile(this.ctx.table, ask));
    else this.profiles[k].reuse(ask);
    this.profileImages[k] = image;
    return this.profiles[k];
  }

  private nowProfile(cpu: number, memoryMiB: number, now: number): FreeProfile {
    for (const p of this.nowProfiles) if (p.cpu === cpu && p.memoryMiB === memoryMiB) return p.follow(now);
    if (this.nowProfiles.length >= 4) this.nowProfiles.shift();
    const p = freeProfile(this.ctx.table, { t: now, cpu, memoryMiB, onlyFreeNow: true });
    this.nowProfiles.push(p);
    return p;
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
      const t = this.ctx.table.earliestWindow(req.nodes, req.perNode.cpu, req.perNode.memoryMiB, length, from, { notBefore, latestStart: hint, bandwidthMbps: bandwidthOf(req.perNode) });
      if (t !== Infinity) return t;
    }
    return this.ctx.table.earliestWindow(req.nodes, req.perNode.cpu, req.perNode.memoryMiB, length, from, { notBefore, bandwidthMbps: bandwidthOf(req.perNode) });
  }

  /** Whether EASY's future reservation would be placed where it is if placed again now: see StaysPut.check. */
  staysPut(lease: LeaseRecord, now: number, freed: Freed): boolean {
    return this.stays.check(lease, now, freed);
  }

  /** Whether now is the only time lastNearTime could answer: no image to move before it starts. */
  onlyNow(lease: LeaseRecord): boolean {
    return lease.state === 'suspended' || !this.ctx.costs.needsTransfer(lease.req);
  }

  /** The later of the times at which a queued lease could start without waiting for others: when its image could arrive, or now. */
  lastNearTime(lease: LeaseRecord, now: number): number {
    if (this.onlyNow(lease)) return now;
    const t = this.imageArrival(lease.req, now);
    return t > now ? t : now;
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
    const tail = remainingWork(lease) + this.ctx.config.shutdownSeconds;
    if (!suspended) {
      const boot = this.ctx.config.bootSeconds;
      return this.spec(lease, t, transferStart, chooseNodes(profile, { n: req.nodes, fullLength: boot + tail, minLength: minLengthWith(boot) }), false, boot + tail);
    }
    const spec = (choice: NodeChoice | null, moved: boolean, fullLength: number): ChainSpec | null => this.spec(lease, t, transferStart, choice, moved, fullLength);
    const home = lease.suspendedOn!;
    const resume = this.ctx.costs.resumeSeconds(lease.req);
    const migrate = this.ctx.costs.migrateSeconds(lease.req);
    const stayLength = resume + tail;
    const moveLength = migrate + stayLength;
    const stay = (minLength: number | null) => chooseAmong(profile, home, { n: req.nodes, fullLength: stayLength, minLength });
    const move = (minLength: number | null) => chooseNodes(profile, { n: req.nodes, fullLength: moveLength, minLength, preferred: home });
    // Memory in a depot (no home node) is fetched to wherever the lease resumes, migration or not.
    const atHome = home.length > 0;
    const stayFull = atHome ? stay(null) : null;
    if (stayFull) return spec(stayFull, false, stayLength);
    if (!this.ctx.config.migration && atHome) return spec(stay(minLengthWith(resume)), false, stayLength);
    const moveFull = move(null);
    if (moveFull) return spec(moveFull, !this.sameNodes(moveFull.nodes, home), moveLength);
    if (!cut) return null;
    const stayCut = atHome ? stay(minLengthWith(resume)) : null;
    if (stayCut) return spec(stayCut, false, stayLength);
    const moveCut = move(minLengthWith(migrate + resume));
    return spec(moveCut, moveCut !== null && !this.sameNodes(moveCut.nodes, home), moveLength);
  }

  /** Whether a and b hold the same nodes, whatever their order: marked in a buffer kept from call to call rather than in a Set made each time. */
  private sameNodes(a: readonly number[], b: readonly number[]): boolean {
    if (a.length !== b.length) return false;
    if (this.marks.length !== this.ctx.table.size) this.marks = new Uint8Array(this.ctx.table.size);
    const marks = this.marks;
    for (const n of b) marks[n] = 1;
    let same = true;
    for (const n of a) if (marks[n] !== 1) same = false;
    for (const n of b) marks[n] = 0;
    return same;
  }

  private spec(lease: LeaseRecord, t: number, transferStart: number | null, choice: NodeChoice | null, moved: boolean, fullLength: number): ChainSpec | null {
    if (!choice) return null;
    const full = choice.end >= t + fullLength;
    const needsTransfer = transferStart !== null && choice.nodes.some((i) => !this.images.readyBy(lease.req, i, t));
    return { t, nodes: choice.nodes, end: full ? t + fullLength : choice.end, full, moved, transferStart: needsTransfer ? transferStart : null };
  }
}
