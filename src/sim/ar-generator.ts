// Advance reservations made by the HPDC'08 study's rules for any log and pool, so that a policy
// measured on the shared SDSC injections can be checked on other workloads (issue 22).
import type { LeaseRequest, Resources } from '../core/types.ts';
import { seededRandom } from './seeded-random.ts';

export type ArSize = 'small' | 'medium' | 'large';

export interface ArRules {
  /** Reserved node-hours as a percentage of the pool's over the span. */
  loadPercent: number;
  /** Mean duration; each reservation is uniform within it ± 30 minutes. */
  meanHours: number;
  size: ArSize;
  /** Reservations start within [from, to). */
  from: number;
  to: number;
  poolNodes: number;
  perNode: Resources;
  /** Each is asked for this long before it starts (the study: 24 h), no earlier than `from`. */
  noticeSeconds?: number;
  seed: number;
}

/** The study's sizes on its 144 nodes, 1-24, 25-48 and 49-72: as shares of any pool. */
const SIZE_SHARES: Record<ArSize, [number, number]> = { small: [1 / 144, 24 / 144], medium: [25 / 144, 48 / 144], large: [49 / 144, 72 / 144] };

/** Node counts a reservation of this size may ask for on a pool of n nodes. */
export function arSizeRange(size: ArSize, poolNodes: number): [number, number] {
  const [lo, hi] = SIZE_SHARES[size];
  const min = Math.max(1, Math.round(lo * poolNodes));
  return [min, Math.max(min, Math.round(hi * poolNodes))];
}

/**
 * Reservations one after another from `from`: sizes uniform over the size's range, durations
 * uniform over the mean ± 30 minutes, starts spaced by gaps uniform over 0.6-1.4 times the mean gap
 * that makes the load (the shared 30-day injections' gaps lie within 0.61-1.39 times their mean;
 * the paper gives the load, the durations, the sizes and the notice, not the spacing).
 */
export function generateArs(rules: ArRules): LeaseRequest[] {
  if (!(rules.loadPercent > 0 && rules.loadPercent <= 100)) throw new RangeError(`AR load must be in (0, 100] %, got ${rules.loadPercent}`);
  if (!(rules.meanHours >= 1)) throw new RangeError(`AR mean duration must be at least 1 h (each is the mean ± 30 min), got ${rules.meanHours}`);
  if (!(rules.to > rules.from)) throw new RangeError(`AR span must end after it begins, got [${rules.from}, ${rules.to})`);
  const next = seededRandom(rules.seed);
  const [minNodes, maxNodes] = arSizeRange(rules.size, rules.poolNodes);
  const meanSeconds = rules.meanHours * 3600;
  const meanGap = (((minNodes + maxNodes) / 2) * meanSeconds) / ((rules.loadPercent / 100) * rules.poolNodes);
  const notice = rules.noticeSeconds ?? 86_400;
  const out: LeaseRequest[] = [];
  for (let start = rules.from; start < rules.to; start += Math.round(meanGap * (0.6 + 0.8 * next()))) {
    const nodes = minNodes + Math.floor(next() * (maxNodes - minNodes + 1));
    const duration = Math.round(meanSeconds - 1800 + next() * 3600);
    out.push({
      id: `ar-${out.length + 1}`, kind: 'exact', arrival: Math.max(rules.from, start - notice), requestedStart: start,
      duration, realDuration: duration, nodes, perNode: rules.perNode, preemptible: false,
    });
  }
  return out;
}

/** Reservations as lines of the shared injections' text format (readers/injected-ars.ts), which `vws sim --inject` reads. */
export function arLines(ars: readonly LeaseRequest[]): string {
  return ars.map((a) => `${a.arrival} ${a.requestedStart} ${a.duration} ${a.realDuration ?? a.duration} ${a.nodes} ${a.perNode.cpu} ${a.perNode.memoryMiB} ${a.perNode.diskMiB} 'NONE.img' 600\n`).join('');
}
