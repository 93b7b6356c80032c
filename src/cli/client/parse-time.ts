// Durations and instants as people type them on a command line, turned into the API's whole
// seconds; and back, so that a printed command line means exactly what the server offered.

import { UsageError } from '../usage-error.ts';

export const DURATION_FORMS = 'seconds (90) or units in the order d, h, m, s (45s, 2h30m, 1d, 1h15m30s)';
export const TIME_FORMS = 'an ISO-8601 time with a zone (2026-11-25T14:00:00Z, 2026-11-25T15:00+01:00), epoch seconds (1795000000), or +DURATION from now (+1h, +2h30m)';

const UNIT_SECONDS: Record<string, number> = { d: 86400, h: 3600, m: 60, s: 1 };
const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Whole seconds, or null if `text` is not one of DURATION_FORMS. */
export function durationSeconds(text: string): number | null {
  if (/^\d+$/.test(text)) return safe(Number(text));
  const m = DURATION.exec(text);
  if (!m || text === '') return null;
  const [, d, h, mi, s] = m;
  return safe(Number(d ?? 0) * UNIT_SECONDS.d + Number(h ?? 0) * UNIT_SECONDS.h + Number(mi ?? 0) * UNIT_SECONDS.m + Number(s ?? 0));
}

const safe = (n: number): number | null => (Number.isSafeInteger(n) ? n : null);

/** The value of option `--name`: a duration of at least `min` seconds. */
export function parseDuration(name: string, text: string, min = 1): number {
  const seconds = durationSeconds(text.trim());
  if (seconds === null) throw new UsageError(`--${name} must be a duration: ${DURATION_FORMS}; got '${text}'`);
  if (seconds < min) throw new UsageError(`--${name} must be at least ${durationText(min)}, got '${text}'`);
  return seconds;
}

/** 9000 -> "2h30m", 0 -> "0s": the shortest form durationSeconds reads back as the same number. */
export function durationText(seconds: number): string {
  if (seconds === 0) return '0s';
  let left = seconds;
  let text = '';
  for (const [unit, size] of Object.entries(UNIT_SECONDS)) {
    const n = Math.floor(left / size);
    left -= n * size;
    if (n > 0) text += `${n}${unit}`;
  }
  return text;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2}))?(?:[Zz]|([+-])(\d{2}):?(\d{2}))$/;

/** Epoch seconds, or null if `text` is not one of TIME_FORMS; a relative time counts from `now`. */
export function timeSeconds(text: string, now: number): number | null {
  if (/^\d+$/.test(text)) return safe(Number(text));
  if (text.startsWith('+')) {
    const d = durationSeconds(text.slice(1));
    return d === null ? null : safe(now + d);
  }
  const m = ISO.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((x) => Number(x ?? 0));
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const d = new Date(ms);
  // Date.UTC rolls 31 April over to 1 May; a calendar date that does not exist is a typo.
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return null;
  const offset = m[7] ? (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 3600 + Number(m[9]) * 60) : 0;
  if (m[7] && (Number(m[8]) > 23 || Number(m[9]) > 59)) return null;
  return ms / 1000 - offset;
}

/** The value of option `--name`: an instant, in epoch seconds. */
export function parseTime(name: string, text: string, now = Math.floor(Date.now() / 1000)): number {
  const t = timeSeconds(text.trim(), now);
  if (t === null || t < 0) throw new UsageError(`--${name} must be ${TIME_FORMS}; got '${text}'`);
  return t;
}

/** 1795000000 -> "2026-11-18T08:26:40Z", which timeSeconds reads back as the same second. */
export function timeText(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** How far `t` is from `now`, for people: "in 1h30m", "5m ago". */
export function relativeText(t: number, now: number): string {
  if (t === now) return 'now';
  return t > now ? `in ${durationText(t - now)}` : `${durationText(now - t)} ago`;
}
