import type { ImageRef, LeaseRequest } from '../core/types.ts';
import { seededRandom } from './seeded-random.ts';

export type ImageChoice = 'none' | 'single' | 'uniform' | 'skewed';

export const IMAGE_CHOICES: readonly ImageChoice[] = ['none', 'single', 'uniform', 'skewed'];

export interface ImageAssignment {
  choice: ImageChoice;
  /** How many distinct images there are to choose from (the study: 37). */
  count: number;
  sizeMiB: number;
  seed: number;
}

/**
 * Probability of each image: uniform gives every image the same share; skewed gives the
 * first 7 images 10% each and shares the remaining 30% equally among the others (the
 * study's 7 x 10% + 30 x 1% for 37 images).
 */
export function imageWeights(choice: ImageChoice, count: number): number[] {
  if (choice === 'single') return [1];
  if (choice === 'uniform') return Array.from({ length: count }, () => 1 / count);
  if (choice === 'skewed') {
    const popular = Math.min(7, count);
    const rest = count - popular;
    const popularShare = rest === 0 ? 1 / popular : 0.1;
    const restShare = rest === 0 ? 0 : (1 - popular * popularShare) / rest;
    return Array.from({ length: count }, (_, i) => (i < popular ? popularShare : restShare));
  }
  return [];
}

/** Gives every lease a VM image (replacing whatever the trace named), or none at all for 'none'. */
export function assignImages(leases: readonly LeaseRequest[], a: ImageAssignment): LeaseRequest[] {
  // A lease without an image is kept as it is: copying 232,562 SWF leases cost 40 MB for nothing.
  if (a.choice === 'none') return leases.map((l) => ('image' in l ? (({ image: _drop, ...rest }) => rest)(l) : l));
  if (!(a.sizeMiB > 0)) throw new RangeError(`image size must be positive, got ${a.sizeMiB}`);
  const weights = imageWeights(a.choice, a.count);
  const cumulative: number[] = [];
  weights.reduce((sum, w, i) => (cumulative[i] = sum + w), 0);
  const random = seededRandom(a.seed);
  const images: ImageRef[] = weights.map((_, i) => ({ id: `image-${i + 1}`, sizeMiB: a.sizeMiB }));
  return leases.map((l) => {
    const r = random() * cumulative[cumulative.length - 1];
    let k = cumulative.findIndex((c) => r < c);
    if (k < 0) k = cumulative.length - 1;
    return { ...l, image: images[k] };
  });
}
