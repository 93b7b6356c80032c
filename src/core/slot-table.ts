import { bandwidthFits, bandwidthFitsNow, bandwidthFreeUntil, HeldBandwidth, withBandwidth } from './bandwidth.ts';
import { endsAfterIn, EPS, exclusiveFreeUntil, insertByStart, leasesOverlappingIn, removeFrom, roomFromOn, small, sweepFreeUntil } from './calendar.ts';
import { FreedNodes } from './freed-nodes.ts';
import { freeWindows } from './free-windows.ts';
import { NodeBits } from './node-bits.ts';
import { NodeLists, nodeListHashStep } from './node-lists.ts';
import { NodeMemo } from './node-memo.ts';
import { OpenFits } from './open-fits.ts';
import { RoomIndex, TouchLog } from './room-index.ts';
import { DEPARTURE, type Segment } from './segment.ts';
import type { NodeSpec, SegmentKind } from './types.ts';
import { UsageNow } from './usage-now.ts';
import { WindowSearch, type WindowOptions } from './window-search.ts';

export type { WindowOptions } from './window-search.ts';

/**
 * Per-node calendars of reservations. Answers "until when can node i hold this much from t"
 * and "when do reservations end after t"; tracks usage at the current instant so that
 * "is the pool full now" is O(1).
 */
export class SlotTable {
  private readonly specs: NodeSpec[] = [];
  private readonly calendars: Segment[][] = [];
  /** Nodes that take no new reservations (draining, removed or lost); what they hold runs on. */
  private readonly closed: boolean[] = [];
  private readonly usage = new UsageNow(this.specs, this.closed, () => this.changes);
  private nextSeq = 1;
  /** Bumped by every change to reservations or to which nodes take them: an answer computed at one version holds until it moves. */
  private changes = 0;
  /** Reservations that have not begun (never activated, not released). */
  private readonly pending = new Set<Segment>();
  private readonly freed = new FreedNodes();
  private readonly nodeLists = new NodeLists();
  private readonly fits = new OpenFits(this.specs, this.closed);
  /** Nodes whose calendar is empty: free for good, for any shape that fits them, if they are open. */
  private readonly empty = new NodeBits();
  /** For each node, the change count at which its calendar (or whether it is open) last changed: what NodeMemo answers are checked against. */
  private readonly touchedAt: number[] = [];
  private readonly roomMemo = new NodeMemo();
  private rooms: RoomIndex | null = null;
  /** The nodes touched since the RoomIndex last looked. */
  private readonly touchLog = new TouchLog();
  private readonly freeMemo = new NodeMemo();
  private readonly windows = new WindowSearch(this);
  /** Each node's departure segment, where it has one (a pilot's node, leaving when its job ends). */
  private readonly departures: Array<Segment | undefined> = [];
  private readonly bandwidth = new HeldBandwidth(this.specs);

  constructor(nodes: readonly NodeSpec[]) {
    for (const n of nodes) this.addNode(n);
  }

  get nodes(): readonly NodeSpec[] { return this.specs; }

  get size(): number { return this.specs.length; }

  /** Bumped by every change to the table: an answer computed at the same version is still right. */
  get version(): number { return this.changes; }

  /** How many reservations are still to begin. */
  get pendingReservations(): number { return this.pending.size; }

  /**
   * The latest instant up to which capacity was given back (a reservation released or cut
   * short, a node opened: Infinity) since forgetFreed; -Infinity if none was. Lets a caller tell
   * that nothing it planned after that instant could now be planned differently.
   */
  get freedUntil(): number { return this.freed.until; }

  /** The nodes on which capacity was given back since forgetFreed (a node may be listed more than once), or null if too many. */
  get freedNodes(): ArrayLike<number> | null { return this.freed.nodes; }

  /** Forgets what was freed. The list last read through freedNodes stays as it was until the next call. */
  forgetFreed(): void {
    this.freed.forget();
  }

  private noteFreed(seg: Segment): void {
    this.freed.note(seg.nodes, seg.end, 4 * this.specs.length);
  }

  /** Adds a node to the pool and returns its index; indices are never reused. */
  addNode(spec: NodeSpec): number {
    this.changes++;
    this.fits.changed();
    this.specs.push(spec);
    this.calendars.push([]);
    this.bandwidth.nodeAdded(spec);
    this.empty.add(this.specs.length - 1);
    this.closed.push(false);
    this.touchedAt.push(this.changes);
    this.usage.nodeAdded();
    this.freed.until = Infinity;
    return this.specs.length - 1;
  }

  /** Stops node n from taking new reservations. */
  close(n: number): void {
    if (this.closed[n]) return;
    this.changes++;
    this.fits.changed();
    this.stampNode(n);
    const wasFull = this.usage.isFull(n);
    this.closed[n] = true;
    this.usage.closedChanged(n, wasFull);
  }

  /** Lets node n take new reservations again. */
  open(n: number): void {
    if (!this.closed[n]) return;
    this.changes++;
    this.fits.changed();
    this.stampNode(n);
    this.freed.until = Infinity;
    const wasFull = this.usage.isFull(n);
    this.closed[n] = false;
    this.usage.closedChanged(n, wasFull);
  }

  isOpen(n: number): boolean { return !this.closed[n]; }

  /** Open nodes that could hold `cpu`/`mem` (and bandwidth `bw`) at all. Asked of every request: the last answer is kept while the pool stays the same. */
  openNodesThatFit(cpu: number, mem: number, bw = 0): number {
    return this.bandwidth.someTooSmall(bw) ? this.openFitting(cpu, mem, bw).size : this.fits.countThatFit(cpu, mem);
  }

  /** Open nodes big enough for cpu/mem (fitsAtAll), kept while the pool and the shape stay the same (a shape with bandwidth is rare: not kept). */
  openFitting(cpu: number, mem: number, bw = 0): NodeBits {
    const bits = this.fits.nodesThatFit(cpu, mem);
    return this.bandwidth.someTooSmall(bw) ? withBandwidth(bits, this.specs, bw) : bits;
  }

  /** Nodes whose calendar is empty (closed ones included). */
  get emptyNodes(): NodeBits { return this.empty; }

  /** Nodes with some capacity left at the current instant. */
  get notFullNow(): NodeBits { return this.usage.notFull; }

  /** A reservation; one that `begins` now is activated as it is made (two changes, read by nothing in between), its nodes gone over once (232,000 of the SDSC log's 336,000). */
  reserve(leaseId: string, kind: SegmentKind, start: number, end: number, nodes: readonly number[], cpu: number, memoryMiB: number, begins = false, bandwidthMbps = 0): Segment {
    this.changes += begins ? 2 : 1;
    const seg: Segment = { seq: this.nextSeq++, leaseId, kind, start: small(start), end: small(end), nodes, cpu, memoryMiB, bandwidthMbps, active: begins, removed: false };
    let h = nodes.length;
    for (let k = 0; k < nodes.length; k++) {
      const n = nodes[k];
      insertByStart(this.calendars[n], seg);
      this.bandwidth.added(n, seg);
      this.empty.delete(n);
      this.stampNode(n);
      if (begins) this.usage.add(n, cpu, memoryMiB, this.changes);
      h = nodeListHashStep(h, n);
    }
    // The list given dies young; one kept to the segment's end (minutes of simulated time) would be promoted, then collected from the old space.
    (seg as { nodes: readonly number[] }).nodes = this.nodeLists.sharedByHash(nodes, h);
    if (!begins) this.pending.add(seg);
    return seg;
  }

  /** Moves a reservation's end (cut short, or stretched into room known to be free): the only way an end changes. */
  setEnd(seg: Segment, end: number): void {
    if (end === seg.end) return;
    this.changes++;
    if (end < seg.end && !seg.removed) this.noteFreed(seg);
    (seg as { end: number }).end = small(end);
    this.touch(seg.nodes);
  }

  /** Drops a reservation; an active one stops counting towards usage now. */
  release(seg: Segment): void {
    if (seg.removed) return;
    this.changes++;
    this.noteFreed(seg);
    if (seg.active) this.deactivate(seg);
    this.pending.delete(seg);
    seg.removed = true;
    for (const n of seg.nodes) this.takeOut(n, seg);
    this.touch(seg.nodes);
  }

  private takeOut(n: number, seg: Segment): void {
    const cal = this.calendars[n];
    removeFrom(cal, seg);
    this.bandwidth.removed(n, cal, seg);
    if (cal.length === 0) this.empty.add(n);
  }

  /** Node n's calendar, or whether it is open, changed. */
  private stampNode(n: number): void {
    this.touchedAt[n] = this.changes;
    this.usage.noteChange(n);
    this.touchLog.note(n);
  }

  private touch(nodes: readonly number[]): void {
    for (const n of nodes) this.stampNode(n);
  }

  /** Marks a reservation as in force at the current instant. */
  activate(seg: Segment): void {
    if (seg.active || seg.removed) return;
    this.changes++;
    this.pending.delete(seg);
    seg.active = true;
    this.usage.addAll(seg.nodes, seg.cpu, seg.memoryMiB);
  }

  /**
   * Marks a reservation as over at its end (one cut short: its new end, set and stamped by setEnd): it stops counting now and leaves the calendars.
   * Its nodes are not stamped: every question is of an instant at or after now, where an ended reservation is passed over, so what was remembered holds.
   */
  deactivate(seg: Segment): void {
    if (!seg.active) return;
    this.changes++;
    seg.active = false;
    this.usage.addAll(seg.nodes, -seg.cpu, -seg.memoryMiB);
    for (const n of seg.nodes) this.takeOut(n, seg);
  }

  /** The first node at or after `from`, by index, with some capacity left at the current instant; -1 if none. */
  nextNotFullNow(from: number): number {
    return this.usage.nextNotFull(from);
  }

  isFullNow(n: number): boolean { return this.usage.isFull(n); }

  /** The change count after which nothing about nodes 32w..32w+31 (calendars, open or not, usage now) changed. */
  wordChangedAt(w: number): number {
    return this.usage.wordChanged(w);
  }

  /** Nodes with some capacity left at the current instant. */
  get nodesNotFullNow(): number {
    return this.usage.notFullCount;
  }

  /** Whether `cpu`/`mem` (and bandwidth `bw`) fit on node n at the current instant, by the usage counters. */
  fitsNow(n: number, cpu: number, mem: number, bw = 0): boolean {
    return this.usage.fits(n, cpu, mem) && (!this.bandwidth.binds(n, bw) || bandwidthFitsNow(this.calendars[n], this.specs[n], bw));
  }

  /**
   * The latest x in (t, horizon] such that node n can hold `cpu`/`mem` (and bandwidth `bw`: bandwidth.ts) on top of its
   * reservations throughout [t, x), those of leases in `ignore` absent from `ignoreFrom` on; t itself when it cannot at t.
   */
  freeUntil(n: number, t: number, cpu: number, mem: number, horizon: number, ignore?: ReadonlySet<string>, ignoreFrom = -Infinity, bw = 0): number {
    const until = this.freeUntilOf(n, t, cpu, mem, horizon, ignore, ignoreFrom);
    return until > t && this.bandwidth.binds(n, bw) ? bandwidthFreeUntil(this.calendars[n], this.specs[n], t, bw, until, ignore, ignoreFrom) : until;
  }

  private freeUntilOf(n: number, t: number, cpu: number, mem: number, horizon: number, ignore: ReadonlySet<string> | undefined, ignoreFrom: number): number {
    const spec = this.specs[n];
    if (this.closed[n] || cpu > spec.cpu + EPS || mem > spec.memoryMiB + EPS) return t;
    const cal = this.calendars[n];
    if (cal.length === 0) return horizon;
    if (ignore === undefined && horizon === Infinity) return this.freeUntilForGood(n, t, cpu, mem);
    if (ignore === undefined) {
      const exclusive = exclusiveFreeUntil(cal, spec.cpu, spec.memoryMiB, t, cpu, mem, horizon);
      if (exclusive !== null) return exclusive;
    }
    return sweepFreeUntil(cal, spec.cpu, spec.memoryMiB, t, cpu, mem, horizon, ignore, ignoreFrom);
  }

  /** freeUntil with no horizon and nothing ignored, the profiles' question: remembered per node. */
  private freeUntilForGood(n: number, t: number, cpu: number, mem: number): number {
    const memo = this.freeMemo;
    memo.forShape(cpu, mem, this.specs.length);
    const known = memo.freeAt(n, t, this.touchedAt[n]) ?? this.roomMemo.freeFromRoom(n, t, this.touchedAt[n], cpu, mem);
    if (known !== undefined) return known;
    const spec = this.specs[n];
    const cal = this.calendars[n];
    const v = exclusiveFreeUntil(cal, spec.cpu, spec.memoryMiB, t, cpu, mem, Infinity) ?? sweepFreeUntil(cal, spec.cpu, spec.memoryMiB, t, cpu, mem, Infinity, undefined, -Infinity);
    memo.remember(n, t, v, this.changes);
    return v;
  }

  /** See free-windows.ts. */
  freeWindows(n: number, from: number, cpu: number, mem: number, ignore?: ReadonlySet<string>, bw = 0): Array<[number, number]> {
    return freeWindows(this, n, from, cpu, mem, ignore, bw);
  }

  /**
   * The earliest t >= from at which at least k nodes can each hold cpu/mem for `length`
   * seconds from t: see WindowSearch.
   */
  earliestWindow(k: number, cpu: number, mem: number, length: number, from: number, opts: WindowOptions = {}): number {
    return this.windows.earliestWindow(k, cpu, mem, length, from, opts);
  }

  /**
   * When node n has room for cpu/mem from t on for good, leaving out the reservations of lease
   * `skip`: t, or the end of the reservations that follow one another from t on. Infinity if it
   * never will (closed, too small). Null when the answer is not that simple: a reservation could
   * share the node with the request, or one begins after a gap (room comes and goes); and for a
   * request with bandwidth on a node that leases it, whose room may come and go with it.
   */
  roomForGoodFrom(n: number, t: number, cpu: number, mem: number, skip?: string, bw = 0): number | null {
    if (!this.fitsAtAll(n, cpu, mem, bw)) return Infinity;
    if (this.bandwidth.binds(n, bw)) return null;
    if (skip !== undefined) return roomFromOn(this.calendars[n], this.specs[n], t, cpu, mem, skip);
    const memo = this.roomMemo;
    memo.forShape(cpu, mem, this.specs.length);
    const known = memo.roomAt(n, t, this.touchedAt[n]);
    if (known !== undefined) return Number.isNaN(known) ? null : known;
    const v = roomFromOn(this.calendars[n], this.specs[n], t, cpu, mem);
    memo.remember(n, t, v ?? Number.NaN, this.changes);
    return v;
  }

  /** For each node, the change count at which its calendar, or whether it is open, last changed. */
  get touched(): readonly number[] {
    return this.touchedAt;
  }

  /** roomForGoodFrom(n, t, cpu, mem) of every node n, as RoomIndex.from reads it: kept for the last shape asked. */
  roomFrom(t: number, cpu: number, mem: number): Float64Array {
    return this.roomIndex(t, cpu, mem).values;
  }

  /** The same answers with the questions asked of all of them at once (RoomIndex.kth and the like), at t. */
  roomIndex(t: number, cpu: number, mem: number): RoomIndex {
    if (this.rooms === null || this.rooms.cpu !== cpu || this.rooms.mem !== mem) this.rooms = new RoomIndex(this, cpu, mem);
    return this.rooms.at(t, this.touchLog.take());
  }

  /** Whether bandwidth `bw` could bind on node n (bandwidth.ts): where it cannot, only CPU and memory are asked. */
  bandwidthBinds(n: number, bw: number): boolean { return this.bandwidth.binds(n, bw); }

  /** Whether bandwidth `bw` could bind on some node: where it cannot, a request is asked as if it leased none. */
  bandwidthBindsAnywhere(bw: number): boolean { return this.bandwidth.bindsAnywhere(bw); }

  /** Whether node n is open and big enough for cpu/mem and bandwidth `bw`. */
  fitsAtAll(n: number, cpu: number, mem: number, bw = 0): boolean {
    return this.fits.fits(n, cpu, mem) && bandwidthFits(this.specs[n], bw);
  }

  /**
   * Node n leaves the pool at `at` (Infinity: it stays): from then on it holds nothing, as if one
   * reservation took the whole node for good. What is planned across `at` is the caller's to move.
   */
  setDeparture(n: number, at: number): void {
    const before = this.departures[n];
    if (before?.start === at || (before === undefined && at === Infinity)) return;
    if (before) this.release(before);
    this.departures[n] = undefined;
    if (at === Infinity) return;
    const spec = this.specs[n];
    const seg = this.reserve(DEPARTURE, 'run', at, Infinity, [n], spec.cpu, spec.memoryMiB, false, spec.bandwidthMbps ?? 0);
    this.pending.delete(seg);
    this.departures[n] = seg;
  }

  /** When node n leaves the pool; Infinity if it stays. */
  departureOf(n: number): number {
    return this.departures[n]?.start ?? Infinity;
  }

  /** Leases with a reservation on node n that overlaps [t, end). */
  leasesOverlapping(n: number, t: number, end: number): string[] {
    return leasesOverlappingIn(this.calendars[n], t, end);
  }

  /** Whether node n holds no lease's reservation now or later (its departure is not one). */
  holdsNoLease(n: number): boolean {
    return this.calendars[n].every((s) => s.leaseId === DEPARTURE);
  }

  /** Distinct end times of reservations that end after t, ascending (a departure never ends). */
  endsAfter(t: number): number[] {
    return endsAfterIn(this.calendars, t);
  }

  /** Forgets reservations that ended by `now`; they live on in their leases' histories. */
  prune(now: number): void {
    this.changes++;
    for (let n = 0; n < this.calendars.length; n++) {
      const cal = this.calendars[n];
      let w = 0;
      for (let r = 0; r < cal.length; r++) if (cal[r].end > now || cal[r].active) cal[w++] = cal[r];
      // Ended reservations leave the calendars as they end: what is left here is rare, and a node whose calendar stays as it was keeps what was remembered of it.
      if (w === cal.length) continue;
      cal.length = w;
      this.bandwidth.removed(n, cal);
      if (w === 0) this.empty.add(n);
      this.stampNode(n);
    }
  }

  reservationsOn(n: number): readonly Segment[] {
    return this.calendars[n];
  }
}
