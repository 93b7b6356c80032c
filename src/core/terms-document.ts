// The terms as a site writes them: a JSON document (format vws.terms/v1) that names only what
// differs from the defaults (terms.ts), except `kinds`, which lists every kind offered. Read
// strictly: an unknown key, a value of the wrong type or out of range, or a contradiction (a
// maximum below a minimum) is refused with the path of what is wrong, so a typo never silently
// leaves a rule out. Durations are whole seconds or text such as "90s", "30m", "12h", "7d".

import { PRESET_NAMES, presetOptions } from './presets.ts';
import type { SchedulerConfig } from './config.ts';
import { LONGEST_HOLD_SECONDS, LONGEST_SECONDS, MOST_NODES } from './limits.ts';
import { PREEMPTION_POLICIES } from './preemption-policy.ts';
import { type AccountTerms, DEFAULT_TERMS, type KindTerms, LEASE_KINDS, type QuotaTerms, type Terms } from './terms.ts';
import type { LeaseKind } from './types.ts';

export const TERMS_FORMAT = 'vws.terms/v1';

export type TermsParse = { ok: true; terms: Terms } | { ok: false; path: string; message: string };

class Bad extends Error {
  constructor(readonly path: string, message: string) {
    super(message);
  }
}

type Obj = Record<string, unknown>;

function object(v: unknown, path: string, keys: readonly string[]): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Bad(path, 'must be an object');
  for (const k of Object.keys(v)) {
    if (!keys.includes(k)) throw new Bad(`${path}.${k}`, `unknown key: the keys here are ${keys.join(', ')}`);
  }
  return v as Obj;
}

function number(v: unknown, path: string, min: number, max: number, whole = false): number {
  // String(): JSON.stringify writes an overflowed 1e400 (Infinity) as null.
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Bad(path, `must be a finite number, got ${typeof v === 'number' ? String(v) : JSON.stringify(v)}`);
  if (whole && !Number.isInteger(v)) throw new Bad(path, `must be a whole number, got ${v}`);
  if (v < min || v > max) throw new Bad(path, `must be from ${min} to ${max}, got ${v}`);
  return v;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

function seconds(v: unknown, path: string, max: number, min = 1): number {
  if (typeof v === 'string') {
    const m = /^([0-9]{1,9})([smhd])$/.exec(v);
    if (!m) throw new Bad(path, `must be whole seconds or text such as "90s", "30m", "12h", "7d", got ${JSON.stringify(v)}`);
    v = Number(m[1]) * UNIT_SECONDS[m[2]];
  }
  return number(v, path, min, max, true);
}

function text(v: unknown, path: string, maxLength: number): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > maxLength || /[\p{Cc}\p{Cs}]/u.test(v)) {
    throw new Bad(path, `must be text of 1 to ${maxLength} printable characters`);
  }
  return v;
}

function oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !values.includes(v as T)) throw new Bad(path, `must be one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

function boolean(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') throw new Bad(path, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** Reads each key present with its reader, over the defaults. */
function section<T extends object>(v: unknown, path: string, defaults: T, readers: { [K in keyof T]: (x: unknown, p: string) => T[K] }): T {
  const o = object(v, path, Object.keys(readers));
  const out = { ...defaults };
  for (const [k, read] of Object.entries(readers) as Array<[keyof T & string, (x: unknown, p: string) => unknown]>) {
    if (o[k] !== undefined) out[k] = read(o[k], `${path}.${k}`) as T[keyof T & string];
  }
  return out;
}

const orNull = <T>(read: (x: unknown, p: string) => T) => (x: unknown, p: string): T | null => (x === null ? null : read(x, p));

const GROUP_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

function groups(v: unknown, path: string): string[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > 1000) throw new Bad(path, 'must be a list of 1 to 1000 group names (or null: everyone)');
  return v.map((g, i) => {
    if (typeof g !== 'string' || !GROUP_NAME.test(g)) throw new Bad(`${path}[${i}]`, `must be a group name, got ${JSON.stringify(g)}`);
    return g;
  });
}

const OPEN: KindTerms = { groups: null, maxNodes: null, minDuration: null, maxDuration: null, maxHorizon: null, preemptible: false, priceFactor: 1 };

function kind(v: unknown, path: string, name: LeaseKind): KindTerms {
  const k = section(v, path, { ...OPEN, preemptible: name === 'best-effort' }, {
    groups: orNull(groups),
    maxNodes: orNull((x, p) => number(x, p, 1, MOST_NODES, true)),
    minDuration: orNull((x, p) => seconds(x, p, LONGEST_SECONDS)),
    maxDuration: orNull((x, p) => seconds(x, p, LONGEST_SECONDS)),
    maxHorizon: orNull((x, p) => seconds(x, p, LONGEST_SECONDS, 0)),
    preemptible: boolean,
    priceFactor: (x, p) => number(x, p, 0, 1000),
  });
  if (k.preemptible && name !== 'best-effort') throw new Bad(`${path}.preemptible`, `only best-effort leases are ever preempted: a ${name} lease cannot be preemptible`);
  if (k.minDuration !== null && k.maxDuration !== null && k.maxDuration < k.minDuration) {
    throw new Bad(`${path}.maxDuration`, `the maximum (${k.maxDuration} s) is below the minimum (minDuration ${k.minDuration} s)`);
  }
  return k;
}

const SCHEDULING: Array<[keyof SchedulerConfig & keyof Terms['scheduling'], (x: unknown, p: string) => unknown]> = [
  ['backfill', (x, p) => oneOf(x, p, ['easy', 'conservative', 'none'] as const)],
  ['suspendRateMBps', (x, p) => number(x, p, 0.001, 1e6)],
  ['resumeRateMBps', (x, p) => number(x, p, 0.001, 1e6)],
  ['migrateBandwidthMBps', (x, p) => number(x, p, 0.001, 1e6)],
  ['images', (x, p) => oneOf(x, p, ['predeployed', 'transfer'] as const)],
  ['imageBandwidthMBps', (x, p) => number(x, p, 0.001, 1e6)],
  ['imageCacheMiB', (x, p) => number(x, p, 0, 1e9, true)],
  ['runtimeOverheadPercent', (x, p) => number(x, p, 0, 1000)],
  ['bootSeconds', (x, p) => seconds(x, p, 86_400, 0)],
  ['shutdownSeconds', (x, p) => seconds(x, p, 86_400, 0)],
  ['suspendThresholdFactor', (x, p) => number(x, p, 0, 1000)],
  ['suspendedQueueOrder', (x, p) => oneOf(x, p, ['arrival', 'suspension'] as const)],
  ['renegotiationSeconds', (x, p) => seconds(x, p, 7 * 86_400, 0)],
  ['renegotiationDefault', (x, p) => oneOf(x, p, ['cancel', 'first-offer'] as const)],
  ['urgentBreaksReservations', boolean],
];

/** Reads a terms document (parsed JSON); the site's own preemption policies may be named beside the built-in ones. */
export function readTerms(doc: unknown, policies: readonly string[] = []): TermsParse {
  try {
    return { ok: true, terms: read(doc, [...Object.keys(PREEMPTION_POLICIES), ...policies]) };
  } catch (e) {
    if (e instanceof Bad) return { ok: false, path: e.path, message: e.message };
    throw e;
  }
}

const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** An object whose keys are names (of groups, of users), each value read by `read`. */
function byName<T>(v: unknown, path: string, name: RegExp, what: string, readOne: (x: unknown, p: string) => T): Record<string, T> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Bad(path, `must be an object of ${what}s`);
  const out: Record<string, T> = {};
  for (const [k, x] of Object.entries(v)) {
    if (!name.test(k)) throw new Bad(`${path}.${k}`, `must be named by a ${what} name`);
    out[k] = readOne(x, `${path}.${k}`);
  }
  return out;
}

const quota = (v: unknown, path: string): QuotaTerms => section(v, path, { cpus: null, memoryMiB: null } as QuotaTerms, {
  cpus: orNull((x, p) => number(x, p, 0, 1e9)),
  memoryMiB: orNull((x, p) => number(x, p, 0, 1e15, true)),
});

const account = (v: unknown, path: string): AccountTerms => {
  const o = object(v, path, ['allocation', 'period']);
  if (o.allocation === undefined) throw new Bad(`${path}.allocation`, 'is required: the units granted each period');
  return { allocation: number(o.allocation, `${path}.allocation`, 0, 1e15), period: o.period === undefined ? 'month' : oneOf(o.period, `${path}.period`, ['month', 'quarter', 'year'] as const) };
};

function read(doc: unknown, policies: string[]): Terms {
  const d = object(doc, 'terms', ['format', 'description', 'unit', 'kinds', 'holds', 'preemption', 'scheduling', 'accounts', 'quotas']);
  if (d.format !== TERMS_FORMAT) throw new Bad('terms.format', `must be "${TERMS_FORMAT}" (a vws terms document), got ${JSON.stringify(d.format)}`);
  if (d.description !== undefined) text(d.description, 'terms.description', 1000);
  const D = DEFAULT_TERMS;
  const unit = d.unit === undefined ? D.unit : section(d.unit, 'terms.unit', D.unit, {
    name: (x, p) => text(x, p, 32),
    definition: (x, p) => text(x, p, 300),
    perCoreHour: (x, p) => number(x, p, 0, 1e6),
    perGiBHour: (x, p) => number(x, p, 0, 1e6),
    preemptibleFactor: (x, p) => number(x, p, 0, 1),
  });
  let kinds = D.kinds;
  if (d.kinds !== undefined) {
    const o = object(d.kinds, 'terms.kinds', LEASE_KINDS);
    kinds = Object.fromEntries(Object.entries(o).map(([k, v]) => [k, kind(v, `terms.kinds.${k}`, k as LeaseKind)]));
  }
  const holds = d.holds === undefined ? D.holds : section(d.holds, 'terms.holds', D.holds, { maxTtl: (x, p) => seconds(x, p, LONGEST_HOLD_SECONDS) });
  const preemption = d.preemption === undefined ? D.preemption : section(d.preemption, 'terms.preemption', D.preemption, {
    how: (x, p) => oneOf(x, p, ['suspend', 'requeue'] as const),
    migrate: boolean,
    victims: (x, p) => oneOf(x, p, policies),
    urgentVictims: (x, p) => oneOf(x, p, policies),
    noticeSeconds: (x, p) => seconds(x, p, 7 * 86_400, 0),
  });
  const scheduling = { ...D.scheduling };
  let victims = preemption.victims;
  if (d.scheduling !== undefined) {
    const o = object(d.scheduling, 'terms.scheduling', ['preset', ...SCHEDULING.map(([k]) => k)]);
    // A preset (presets.ts) sets the options it names; the document's own keys still win.
    if (o.preset !== undefined) {
      const { preemptionPolicy, ...rest } = presetOptions(oneOf(o.preset, 'terms.scheduling.preset', PRESET_NAMES));
      Object.assign(scheduling, rest);
      if (preemptionPolicy !== undefined && (d.preemption as Record<string, unknown> | undefined)?.victims === undefined) victims = preemptionPolicy;
    }
    for (const [k, readOne] of SCHEDULING) if (o[k] !== undefined) (scheduling as Record<string, unknown>)[k] = readOne(o[k], `terms.scheduling.${k}`);
  }
  const accounts = d.accounts === undefined ? D.accounts : byName(d.accounts, 'terms.accounts', GROUP_NAME, 'group', account);
  const quotas = d.quotas === undefined ? D.quotas : section(d.quotas, 'terms.quotas', D.quotas, {
    perUser: quota,
    perGroup: quota,
    users: (x, p) => byName(x, p, USER_NAME, 'user', quota),
    groups: (x, p) => byName(x, p, GROUP_NAME, 'group', quota),
  });
  return { unit, kinds, holds, preemption: { ...preemption, victims }, scheduling, accounts, quotas };
}

/** The document that reads back as these terms (what GET /v1/terms publishes). */
export function termsDocument(terms: Terms): Record<string, unknown> {
  return { format: TERMS_FORMAT, ...terms };
}
