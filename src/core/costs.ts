// Overheads the scheduler plans explicitly. Rates are MB/s (the study's unit, taken as MiB);
// an infinite rate expresses a zero-cost operation.

export function secondsToMove(sizeMiB: number, rateMBps: number): number {
  if (sizeMiB <= 0 || rateMBps === Infinity) return 0;
  if (!(rateMBps > 0)) throw new RangeError(`rate must be a positive number of MB/s or Infinity, got ${rateMBps}`);
  return Math.ceil(sizeMiB / rateMBps);
}

export function stretchedSeconds(seconds: number, overheadPercent: number): number {
  return overheadPercent === 0 ? seconds : Math.round(seconds * (1 + overheadPercent / 100));
}

/** The seconds of work that `seconds` of stretched run time stand for (the inverse of stretchedSeconds, to the second). */
export function unstretchedSeconds(seconds: number, overheadPercent: number): number {
  return overheadPercent === 0 ? seconds : Math.round(seconds / (1 + overheadPercent / 100));
}

/** The fewest seconds of work whose stretched run lasts at least `seconds` (unstretchedSeconds may round below). */
export function workCovering(seconds: number, overheadPercent: number): number {
  let work = unstretchedSeconds(seconds, overheadPercent);
  while (stretchedSeconds(work, overheadPercent) < seconds) work++;
  return work;
}
