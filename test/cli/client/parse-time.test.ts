import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { durationSeconds, durationText, parseDuration, parseTime, timeSeconds, timeText } from '../../../src/cli/client/parse-time.ts';
import { UsageError } from '../../../src/cli/usage-error.ts';

const NOW = 1_795_000_000;
/** Instants from 1970 to the end of 9999: toISOString writes years past 9999 with a sign. */
const instant = fc.integer({ min: 0, max: 253_402_300_799 });

test('durations in the documented forms', () => {
  const cases: Array<[string, number]> = [
    ['90', 90], ['45s', 45], ['2h30m', 9000], ['1d', 86400], ['1h15m30s', 4530], ['90m', 5400], ['1d2s', 86402], ['0', 0], ['0s', 0],
  ];
  for (const [text, seconds] of cases) assert.equal(durationSeconds(text), seconds, text);
});

test('malformed durations are refused, with the accepted forms in the message', () => {
  for (const text of ['', '2x', '1.5h', '30m2h', 'h', '1h 30m', '-5', '1hh', '2h30', '+1h', '1w']) {
    assert.equal(durationSeconds(text), null, text);
    assert.throws(() => parseDuration('duration', text), (e: Error) => e instanceof UsageError && /--duration must be a duration: seconds \(90\) or units .*2h30m/.test(e.message), text);
  }
  assert.throws(() => parseDuration('duration', '0'), /--duration must be at least 1s/);
  assert.throws(() => parseDuration('expires', '59', 60), /at least 1m/);
});

test('formatting a duration and parsing it back gives the same seconds', () => {
  fc.assert(fc.property(fc.nat({ max: 2 ** 40 }), (s) => durationSeconds(durationText(s)) === s));
});

test('a duration written as any mix of d/h/m/s parts is the sum of its parts', () => {
  const part = fc.option(fc.nat({ max: 100_000 }), { nil: undefined });
  fc.assert(fc.property(part, part, part, part, (d, h, m, s) => {
    fc.pre([d, h, m, s].some((x) => x !== undefined));
    const text = `${d === undefined ? '' : `${d}d`}${h === undefined ? '' : `${h}h`}${m === undefined ? '' : `${m}m`}${s === undefined ? '' : `${s}s`}`;
    return durationSeconds(text) === (d ?? 0) * 86400 + (h ?? 0) * 3600 + (m ?? 0) * 60 + (s ?? 0);
  }));
});

test('times: ISO-8601 with a zone, epoch seconds, and +DURATION from now', () => {
  const cases: Array<[string, number]> = [
    ['2026-11-25T14:00:00Z', Date.UTC(2026, 10, 25, 14) / 1000],
    ['2026-11-25T14:00Z', Date.UTC(2026, 10, 25, 14) / 1000],
    ['2026-11-25T15:00:00+01:00', Date.UTC(2026, 10, 25, 14) / 1000],
    ['2026-11-25T09:30:00-0430', Date.UTC(2026, 10, 25, 14) / 1000],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29) / 1000],
    ['1795000000', 1795000000],
    ['+1h', NOW + 3600],
    ['+2h30m', NOW + 9000],
    ['+90', NOW + 90],
  ];
  for (const [text, t] of cases) assert.equal(timeSeconds(text, NOW), t, text);
});

test('malformed or impossible times are refused, with the accepted forms in the message', () => {
  for (const text of ['tomorrow', '2026-11-25T14:00:00', '2026-11-25', '2026-02-30T00:00:00Z', '2025-02-29T00:00:00Z', '2026-11-25T24:00:00Z', '2026-11-25T14:60Z', '+', '+1x', '-1h', '2026-11-25T14:00:00+25:00', '1.5']) {
    assert.equal(timeSeconds(text, NOW), null, text);
    assert.throws(() => parseTime('start', text, NOW), (e: Error) => e instanceof UsageError && /--start must be an ISO-8601 time with a zone .* epoch seconds .* \+DURATION from now/.test(e.message), text);
  }
});

test('formatting a time and parsing it back gives the same second', () => {
  fc.assert(fc.property(instant, (t) => timeSeconds(timeText(t), NOW) === t));
});

test('+DURATION is now plus the duration, for any duration and any now', () => {
  fc.assert(fc.property(instant, fc.nat({ max: 10 * 365 * 86400 }), (now, d) => timeSeconds(`+${durationText(d)}`, now) === now + d));
});

test('an ISO time with an offset is the same instant as the UTC time the offset names', () => {
  fc.assert(fc.property(fc.integer({ min: 86400, max: 253_402_300_799 - 86400 }), fc.integer({ min: -23, max: 23 }), fc.integer({ min: 0, max: 59 }), (t, hours, minutes) => {
    const offset = Math.sign(hours || 1) * (Math.abs(hours) * 3600 + minutes * 60);
    // Local wall time at that offset, written with the offset: it must name the instant t.
    const local = timeText(t + offset).replace(/Z$/, '');
    const sign = offset < 0 ? '-' : '+';
    const text = `${local}${sign}${String(Math.abs(hours)).padStart(2, '0')}:${String(minutes).padStart(2, '0')}`;
    return timeSeconds(text, NOW) === t;
  }));
});
