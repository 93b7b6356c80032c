// Network bandwidth, the slot table's third resource: a node's capacity (NodeSpec.bandwidthMbps;
// absent, the node does not lease bandwidth) shared by the reservations of leases that ask for
// some (Resources.bandwidthMbps, also the rate the node's shaper enforces). Only a request that
// leases bandwidth, on a node that leases it, is asked these questions: a request without any
// never waits for bandwidth, so every other question stays one of CPU and memory, and the
// tables' memos of it hold as they are. The answers combine with those of CPU and memory as the
// earlier of two ends (free until) or the later of two starts (room for good), each resource
// being free or not on its own.

import { EPS } from './calendar.ts';
import { NodeBits } from './node-bits.ts';
import type { Segment } from './segment.ts';
import type { Resources } from './types.ts';

/** Whether node `spec` has bandwidth to share and the request `bw` asks for some of it. */
function limitsBandwidth(spec: Resources, bw: number): boolean {
  return bw > 0 && spec.bandwidthMbps !== undefined;
}

/** Whether `bw` fits the node at all. */
export function bandwidthFits(spec: Resources, bw: number): boolean {
  return !limitsBandwidth(spec, bw) || bw <= spec.bandwidthMbps! + EPS;
}

/** Whether `bw` fits beside the node's reservations that have begun (the table's usage at the current instant). */
export function bandwidthFitsNow(cal: readonly Segment[], spec: Resources, bw: number): boolean {
  if (!limitsBandwidth(spec, bw)) return true;
  let used = 0;
  for (const s of cal) if (s.active) used += s.bandwidthMbps;
  return used + bw <= spec.bandwidthMbps! + EPS;
}

/**
 * The latest x in (t, horizon] such that `bw` fits beside the node's reservations throughout
 * [t, x); t when it does not fit at t. Reservations of leases in `ignore` are absent from
 * `ignoreFrom` on.
 */
export function bandwidthFreeUntil(cal: readonly Segment[], spec: Resources, t: number, bw: number, horizon: number, ignore?: ReadonlySet<string>, ignoreFrom = -Infinity): number {
  if (!limitsBandwidth(spec, bw)) return horizon;
  const cap = spec.bandwidthMbps! + EPS;
  if (bw > cap) return t;
  let used = 0;
  const changes: Array<[number, number]> = [];
  for (const s of cal) {
    if (s.start >= horizon) break;
    if (s.bandwidthMbps === 0) continue;
    const end = ignore !== undefined && ignore.has(s.leaseId) ? Math.min(s.end, Math.max(s.start, ignoreFrom)) : s.end;
    if (end <= t) continue;
    if (s.start <= t) used += s.bandwidthMbps;
    else changes.push([s.start, s.bandwidthMbps]);
    if (end < horizon) changes.push([end, -s.bandwidthMbps]);
  }
  if (used + bw > cap) return t;
  // At one instant what ends is given back before what begins takes its share.
  changes.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (const [at, d] of changes) {
    used += d;
    if (d > 0 && used + bw > cap) return at;
  }
  return horizon;
}

/** Of the nodes `bits`, those with bandwidth for `bw` at all. */
export function withBandwidth(bits: NodeBits, specs: readonly Resources[], bw: number): NodeBits {
  const out = new NodeBits();
  for (let n = 0; n < specs.length; n++) if (bits.has(n) && bandwidthFits(specs[n], bw)) out.add(n);
  return out;
}

/** The bandwidth a shape leases on each node: 0 when it asks for none. */
export function bandwidthOf(shape: Resources): number {
  return shape.bandwidthMbps ?? 0;
}

/** "N nodes with C CPU and M MiB each" (and their bandwidth, where they lease some): what a refusal says was asked for. */
export function nodesText(nodes: number, shape: Resources): string {
  const bw = bandwidthOf(shape);
  return `${nodes} nodes with ${shape.cpu} CPU and ${shape.memoryMiB} MiB${bw > 0 ? ` and ${bw} Mbit/s` : ''} each`;
}

/**
 * Of each node, the bandwidth of all the reservations in its calendar, whenever they are: more
 * than it ever holds at once. Where that and a request's bandwidth fit the node, bandwidth cannot
 * bind there, and the request is asked only the questions of CPU and memory, with their memos
 * (a site whose leases ask for bandwidth its nodes have plenty of is scheduled as fast as one
 * whose leases ask for none).
 */
export class HeldBandwidth {
  private readonly held: number[] = [];
  /** The least bandwidth any node leases (Infinity: none leases any), and the least any has left unheld, when not `stale`. */
  private least = Infinity;
  private leastLeft = Infinity;
  private stale = false;

  constructor(private readonly specs: readonly Resources[]) {}

  nodeAdded(spec: Resources): void {
    this.held.push(0);
    if (spec.bandwidthMbps !== undefined) this.least = Math.min(this.least, spec.bandwidthMbps);
    this.stale = true;
  }

  added(n: number, seg: Segment): void {
    if (seg.bandwidthMbps === 0) return;
    this.held[n] += seg.bandwidthMbps;
    this.stale = true;
  }

  /** Node n's calendar lost segments (`seg`, or ended ones): counted again where bandwidth was held. */
  removed(n: number, cal: readonly Segment[], seg?: Segment): void {
    if (seg ? seg.bandwidthMbps === 0 : this.held[n] === 0) return;
    let sum = 0;
    for (const s of cal) sum += s.bandwidthMbps;
    this.held[n] = sum;
    this.stale = true;
  }

  /** Whether some node is too small for `bw` at all. */
  someTooSmall(bw: number): boolean {
    return bw > this.least + EPS;
  }

  /** Whether bandwidth `bw` could bind on node n: it leases bandwidth, and what it holds with `bw` is more than it has. */
  binds(n: number, bw: number): boolean {
    return limitsBandwidth(this.specs[n], bw) && this.held[n] + bw > this.specs[n].bandwidthMbps! + EPS;
  }

  /** Whether it could bind on some node: a look at every node only after what they hold changed. */
  bindsAnywhere(bw: number): boolean {
    if (!(bw > 0) || this.least === Infinity) return false;
    if (this.stale) {
      this.leastLeft = Infinity;
      for (let n = 0; n < this.held.length; n++) {
        const has = this.specs[n].bandwidthMbps;
        if (has !== undefined) this.leastLeft = Math.min(this.leastLeft, has - this.held[n]);
      }
      this.stale = false;
    }
    return bw > this.leastLeft + EPS;
  }
}
