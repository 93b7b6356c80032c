/**
 * Answers about single nodes for one request shape, remembered per node until that node's
 * calendar changes. The slot table stamps each node with its change count when a reservation on
 * it is made, moved or dropped; an answer computed at a later count still holds. On the whole
 * SDSC log the scheduler asks about all 1,152 nodes some 300,000 times, while each event changes
 * the calendars of a few nodes only.
 *
 * An answer v computed for the instant t0 is reused at t0, and at later instants where the rule
 * of the question says it cannot differ: see `roomAt` and `freeAt`.
 */
export class NodeMemo {
  private cpu = Number.NaN;
  private mem = Number.NaN;
  private at = new Float64Array(0);
  private value = new Float64Array(0);
  /** The table's change count when the answer was computed; -1 when there is none. */
  private stamp = new Float64Array(0);

  /** Forgets every answer unless they were for this shape. */
  forShape(cpu: number, mem: number, size: number): void {
    if (cpu === this.cpu && mem === this.mem && size === this.stamp.length) return;
    this.cpu = cpu;
    this.mem = mem;
    this.at = new Float64Array(size);
    this.value = new Float64Array(size);
    this.stamp = new Float64Array(size).fill(-1);
  }

  /**
   * "From when has node n room for good, from t on" (null as NaN): the answer v at t0 is
   * max(t, v) at any t >= t0, as reservations ending in between only make room sooner where the
   * ones left still follow one another. A null (room comes and goes) holds only at t0.
   */
  roomAt(n: number, t: number, changed: number): number | undefined {
    if (!this.holds(n, changed)) return undefined;
    const t0 = this.at[n];
    const v = this.value[n];
    if (t === t0) return v;
    if (t > t0 && !Number.isNaN(v)) return v > t ? v : t;
    return undefined;
  }

  /**
   * "Until when can node n hold the shape from t": the answer v > t0 at t0 holds at every t in
   * [t0, v), the node having room throughout [t0, v) and not at v.
   */
  freeAt(n: number, t: number, changed: number): number | undefined {
    if (!this.holds(n, changed)) return undefined;
    const t0 = this.at[n];
    const v = this.value[n];
    if (t === t0 || (t > t0 && t < v)) return v;
    return undefined;
  }

  /**
   * "Until when can node n hold the shape from t", told from a room-for-good answer v at t0 <= t
   * (this memo keeping those): the reservations from t0 follow one another up to v and none can be
   * shared, so the node is taken at t < v, and free for good from v.
   */
  freeFromRoom(n: number, t: number, changed: number, cpu: number, mem: number): number | undefined {
    if (cpu !== this.cpu || mem !== this.mem || !this.holds(n, changed)) return undefined;
    const v = this.value[n];
    if (Number.isNaN(v) || t < this.at[n]) return undefined;
    return t >= v ? Infinity : t;
  }

  /**
   * Whether node n's answer was computed since its calendar last changed. Written so that a node
   * beyond the arrays says no: a memo sized for the pool before a node was added (freeFromRoom
   * reads the room memo without resizing it) read undefined there, which `stamp < changed` took
   * for a good answer, and a discarded plan then changed later placements.
   */
  private holds(n: number, changed: number): boolean {
    return this.stamp[n] >= changed;
  }

  remember(n: number, t: number, v: number, stamp: number): void {
    this.at[n] = t;
    this.value[n] = v;
    this.stamp[n] = stamp;
  }
}
