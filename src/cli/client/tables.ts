// Plain-text tables for people; scripts use --json instead, so nothing here is meant to be parsed.

import { timeText } from './parse-time.ts';

/** Columns padded to their widest cell; the last column is not padded, so lines end cleanly. */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

/** "key   value" lines, for one object shown in full. */
export function fields(pairs: Array<[string, string]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

export const when = (t: number | null | undefined): string => (t === null || t === undefined ? '-' : timeText(t));

export const orDash = (v: string | null | undefined): string => (v === null || v === undefined || v === '' ? '-' : v);

/** Seconds of a resource to resource-hours, to two decimals. */
export const hours = (seconds: number, per = 1): string => (seconds / per / 3600).toFixed(2);
