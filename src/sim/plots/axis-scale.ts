// An axis's range and ticks for the kinds of figure the charts show: durations (read in the unit
// that suits their size: seconds, minutes, hours or days), fractions (read as percentages) and
// counts (whole ticks). Ticks fall on 1, 2 or 5 times a power of ten of the axis's unit.

export type ValueKind = 'seconds' | 'fraction' | 'count';

export interface Scale {
  min: number;
  max: number;
  ticks: readonly number[];
  /** A tick's label, with its unit. */
  format: (value: number) => string;
}

interface Unit {
  /** What one unit of the axis is worth in the figure's own terms. */
  size: number;
  suffix: string;
}

const TIME_UNITS: readonly Unit[] = [
  { size: 86_400, suffix: ' d' },
  { size: 3600, suffix: ' h' },
  { size: 60, suffix: ' min' },
  { size: 1, suffix: ' s' },
];

/** The largest unit of which the figure is at least two: "36 h" rather than "1.5 d", "3 d" rather than "72 h". */
function timeUnit(largest: number): Unit {
  return TIME_UNITS.find((u) => largest >= 2 * u.size) ?? TIME_UNITS[TIME_UNITS.length - 1];
}

function unitOf(kind: ValueKind, largest: number): Unit {
  if (kind === 'seconds') return timeUnit(largest);
  if (kind === 'fraction') return { size: 0.01, suffix: '%' };
  return { size: 1, suffix: '' };
}

/** The smallest 1, 2 or 5 times a power of ten that cuts `range` into at most `parts` steps. */
function niceStep(range: number, parts: number): number {
  const raw = range / parts;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= raw * (1 - 1e-12))!;
}

const MINUS = '\u2212';

function numberText(x: number, decimals: number): string {
  const text = Math.abs(x).toFixed(decimals);
  return Number(text) === 0 ? text : `${x < 0 ? MINUS : ''}${text}`;
}

/**
 * The scale of an axis that must show [lo, hi] and zero (bars grow from zero; a line's level reads
 * against it), with at most about `parts` steps between ticks. The axis runs from tick to tick,
 * or, `exact`, from lo to hi with the ticks inside (a time axis ends when the run does).
 */
export function scaleFor(kind: ValueKind, lo: number, hi: number, parts = 5, exact = false): Scale {
  lo = Math.min(0, lo);
  hi = Math.max(0, hi);
  const unit = unitOf(kind, Math.max(-lo, hi));
  const span = (hi - lo) / unit.size;
  const step = Math.max(kind === 'count' ? 1 : 0, span > 0 ? niceStep(span, parts) : 1);
  // Ticks as whole multiples of the step, so that no sum drifts off a round figure.
  const a = lo / unit.size / step;
  const b = hi / unit.size / step;
  const first = exact ? Math.ceil(a - 1e-9) : Math.floor(a + 1e-9);
  const last = exact ? Math.floor(b + 1e-9) : Math.max(first + 1, Math.ceil(b - 1e-9));
  const ticks: number[] = [];
  for (let k = first; k <= last; k++) ticks.push(k * step * unit.size);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const min = exact ? lo : ticks[0];
  const max = exact ? Math.max(hi, lo + unit.size) : ticks[ticks.length - 1];
  return { min, max, ticks, format: (v) => `${numberText(v / unit.size, decimals)}${unit.suffix}` };
}

/** One figure as a person reads it (in a tooltip or a description): a unit that suits it, one decimal unless it is whole. */
export function valueText(kind: ValueKind, value: number): string {
  const unit = unitOf(kind, Math.abs(value));
  return `${numberText(value / unit.size, 1).replace(/\.0$/, '')}${unit.suffix}`;
}
