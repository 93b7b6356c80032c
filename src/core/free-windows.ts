import { bandwidthFits } from './bandwidth.ts';
import { EPS, exclusiveGaps, nextReleaseAfter } from './calendar.ts';
import type { Segment } from './segment.ts';
import type { NodeSpec } from './types.ts';

/** What the windows of one node are read from: the slot table. */
export interface FreeWindowsSource {
  readonly nodes: readonly NodeSpec[];
  isOpen(n: number): boolean;
  reservationsOn(n: number): readonly Segment[];
  freeUntil(n: number, t: number, cpu: number, mem: number, horizon: number, ignore?: ReadonlySet<string>, ignoreFrom?: number, bw?: number): number;
  bandwidthBinds(n: number, bw: number): boolean;
}

/**
 * Maximal windows [a, b) at or after `from` in which node n can hold cpu/mem on top of its
 * reservations (b is Infinity for the last one), those of leases in `ignore` left out: the gaps
 * between reservations when none can share the node, else a walk from each release to the next
 * (always, for a request with bandwidth `bw` on a node that leases it: reservations that leave the
 * CPU and memory room may hold the bandwidth).
 */
export function freeWindows(table: FreeWindowsSource, n: number, from: number, cpu: number, mem: number, ignore?: ReadonlySet<string>, bw = 0): Array<[number, number]> {
  const spec = table.nodes[n];
  if (!table.isOpen(n) || cpu > spec.cpu + EPS || mem > spec.memoryMiB + EPS || !bandwidthFits(spec, bw)) return [];
  const cal = table.reservationsOn(n);
  const ignoring = ignore !== undefined && ignore.size > 0 && cal.some((s) => ignore.has(s.leaseId));
  const gaps = ignoring || table.bandwidthBinds(n, bw) ? null : exclusiveGaps(cal, spec, from, cpu, mem);
  if (gaps !== null) return gaps;
  const out: Array<[number, number]> = [];
  let t = from;
  for (let guard = 0; guard < 100_000; guard++) {
    const until = table.freeUntil(n, t, cpu, mem, Infinity, ignoring ? ignore : undefined, -Infinity, bw);
    if (until > t) {
      out.push([t, until]);
      if (until === Infinity) return out;
      t = until;
    }
    const next = nextReleaseAfter(cal, t, ignoring ? ignore : undefined);
    if (next === Infinity) return out;
    t = next;
  }
  throw new Error(`internal: node ${n} has too many windows`);
}
