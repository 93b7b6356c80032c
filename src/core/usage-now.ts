import { EPS } from './calendar.ts';
import { NodeBits } from './node-bits.ts';
import type { NodeSpec } from './types.ts';

/**
 * What each node holds at the current instant and which nodes have room left: asked before every
 * placement now, so "is the pool full" is a count and "which nodes are not" a bitset walk.
 * Reads the slot table's node specs and closed flags; the table tells it when they change.
 */
export class UsageNow {
  private readonly cpu: number[] = [];
  private readonly mem: number[] = [];
  /** Each node's capacity less EPS, at or past which it is full: read per node-slot by addAll, without going through its spec. */
  private readonly fullCpu: number[] = [];
  private readonly fullMem: number[] = [];
  /** The nodes not full now. */
  readonly notFull = new NodeBits();
  /**
   * For each word of 32 nodes, the table's change count when what one of them holds, its calendar,
   * or whether it is open last changed: lets a profile of the current instant keep the words that did not.
   */
  private readonly wordChangedAt: number[] = [];

  /** `changes` tells the table's change count, which the table moves before telling of a change. */
  constructor(private readonly specs: readonly NodeSpec[], private readonly closed: readonly boolean[], private readonly changes: () => number) {}

  /** The table has just added a node (its spec and closed flag are in place). */
  nodeAdded(): void {
    const n = this.cpu.length;
    this.cpu.push(0);
    this.mem.push(0);
    const spec = this.specs[n];
    this.fullCpu.push(spec.cpu - EPS);
    this.fullMem.push(spec.memoryMiB - EPS);
    this.wordChangedAt[n >> 5] = this.changes();
    this.follow(n, true);
  }

  /** Node n was closed or opened; `wasFull` is what isFull answered before. */
  closedChanged(n: number, wasFull: boolean): void {
    this.wordChangedAt[n >> 5] = this.changes();
    this.follow(n, wasFull);
  }

  /**
   * Adds cpu/mem (negative: takes them back) to what each of `nodes` holds now: what activating and
   * deactivating a segment does on each of its nodes, 9.6 million node-slots on the whole SDSC log.
   */
  addAll(nodes: readonly number[], cpu: number, mem: number): void {
    const stamp = this.changes();
    for (let k = 0; k < nodes.length; k++) this.add(nodes[k], cpu, mem, stamp);
  }

  /**
   * addAll on one node, `stamp` being the table's change count: for a caller that goes over the
   * nodes anyway (SlotTable.reserve of what begins now).
   */
  add(n: number, cpu: number, mem: number, stamp: number): void {
    this.wordChangedAt[n >> 5] = stamp;
    const closed = this.closed[n];
    const fullCpu = this.fullCpu[n];
    const fullMem = this.fullMem[n];
    const wasFull = closed || this.cpu[n] >= fullCpu || this.mem[n] >= fullMem;
    let c = this.cpu[n] + cpu;
    let m = this.mem[n] + mem;
    if (Math.abs(c) < EPS) c = 0;
    if (Math.abs(m) < EPS) m = 0;
    this.cpu[n] = c;
    this.mem[n] = m;
    this.followTo(n, wasFull, closed || c >= fullCpu || m >= fullMem);
  }

  private follow(n: number, wasFull: boolean): void {
    this.followTo(n, wasFull, this.isFull(n));
  }

  private followTo(n: number, wasFull: boolean, isFull: boolean): void {
    if (wasFull === isFull) return;
    if (isFull) this.notFull.delete(n);
    else this.notFull.add(n);
  }

  /** Full at the thresholds addAll reads (kept when the node is added), so that both say the same. */
  isFull(n: number): boolean {
    return this.closed[n] || this.cpu[n] >= this.fullCpu[n] || this.mem[n] >= this.fullMem[n];
  }

  fits(n: number, cpu: number, mem: number): boolean {
    const spec = this.specs[n];
    return !this.closed[n] && this.cpu[n] + cpu <= spec.cpu + EPS && this.mem[n] + mem <= spec.memoryMiB + EPS;
  }

  /** The change count when something about one of nodes 32w..32w+31 last changed. */
  wordChanged(w: number): number {
    return this.wordChangedAt[w];
  }

  /** The table changed node n's calendar or whether it is open. */
  noteChange(n: number): void {
    this.wordChangedAt[n >> 5] = this.changes();
  }

  get notFullCount(): number {
    return this.notFull.size;
  }

  /** The first node at or after `from`, by index, that is not full; -1 if none. */
  nextNotFull(from: number): number {
    return this.notFull.next(from);
  }
}
