// The parameters of a Query API request (form body or query string), read strictly: every
// parameter an action reads is marked, and whatever is left unread is an UnknownParameter, so that
// a parameter vws does not support is refused rather than silently ignored.

import { Ec2Error, invalidValue, missing } from './errors.ts';

/** Most parameters one request may carry, and most members of one list. */
export const MOST_PARAMETERS = 1000;
export const MOST_LIST_MEMBERS = 1000;

/** Parameters every request may carry, read by the server itself. */
const COMMON = new Set(['Action', 'Version', 'DryRun']);

/** Decodes application/x-www-form-urlencoded text, refusing a repeated name (EC2 takes each once). */
export function parseQuery(text: string): Map<string, string> {
  const params = new Map<string, string>();
  if (text === '') return params;
  const pairs = text.split('&');
  if (pairs.length > MOST_PARAMETERS) throw new Ec2Error('InvalidParameterValue', `The request has ${pairs.length} parameters; at most ${MOST_PARAMETERS} are taken`);
  for (const pair of pairs) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const [rawName, rawValue] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      value = decodeURIComponent(rawValue.replace(/\+/g, ' '));
    } catch {
      throw new Ec2Error('InvalidHttpRequest', `The parameter '${rawName.slice(0, 100)}' is not valid percent-encoding: encode names and values as UTF-8 with %XX`);
    }
    if (params.has(name)) throw new Ec2Error('InvalidParameterValue', `The parameter ${name.slice(0, 100)} is given twice: give it once`);
    params.set(name, value);
  }
  return params;
}

export class Params {
  private readonly read = new Set<string>(COMMON);

  constructor(readonly all: Map<string, string>) {}

  get action(): string | undefined {
    return this.all.get('Action');
  }

  /** A single value, if given. */
  optional(name: string): string | undefined {
    this.read.add(name);
    return this.all.get(name);
  }

  required(name: string, what: string): string {
    const v = this.optional(name);
    if (v === undefined || v === '') throw missing(name, what);
    return v;
  }

  /** An integer in [min, max], if given. */
  integer(name: string, min: number, max: number): number | undefined {
    const v = this.optional(name);
    if (v === undefined) return undefined;
    if (!/^-?\d{1,10}$/.test(v) || Number(v) < min || Number(v) > max) throw invalidValue(name, v, `Give a whole number from ${min} to ${max}.`);
    return Number(v);
  }

  boolean(name: string): boolean | undefined {
    const v = this.optional(name);
    if (v === undefined) return undefined;
    if (v !== 'true' && v !== 'false') throw invalidValue(name, v, 'Give true or false.');
    return v === 'true';
  }

  /** `Prefix.1`, `Prefix.2`, ... in order; the numbers must run 1, 2, 3 without a gap. */
  list(prefix: string): string[] {
    return this.indexes(prefix, false).map((i) => {
      const name = `${prefix}.${i}`;
      this.read.add(name);
      return this.all.get(name)!;
    });
  }

  /** The numbers N of members `Prefix.N.*` (structures) or `Prefix.N` (values), checked to run 1..n. */
  indexes(prefix: string, structured = true): number[] {
    const seen = new Set<number>();
    const pattern = structured ? /^(\d+)\./ : /^(\d+)$/;
    for (const name of this.all.keys()) {
      if (!name.startsWith(`${prefix}.`)) continue;
      const m = pattern.exec(name.slice(prefix.length + 1));
      if (!m) continue;
      const n = Number(m[1]);
      if (!/^[1-9]\d{0,5}$/.test(m[1])) throw invalidValue(name, name, `List members are numbered from 1: ${prefix}.1, ${prefix}.2, ...`);
      seen.add(n);
    }
    const sorted = [...seen].sort((a, b) => a - b);
    if (sorted.length > MOST_LIST_MEMBERS) throw invalidValue(prefix, String(sorted.length), `At most ${MOST_LIST_MEMBERS} members are taken.`);
    sorted.forEach((n, i) => {
      if (n !== i + 1) throw invalidValue(`${prefix}.${n}`, String(n), `List members are numbered 1, 2, 3 without a gap; ${prefix}.${i + 1} is missing.`);
    });
    return sorted;
  }

  /** Filter.N.Name and Filter.N.Value.M. */
  filters(): Array<{ name: string; values: string[] }> {
    return this.indexes('Filter').map((n) => ({ name: this.required(`Filter.${n}.Name`, 'the filter\'s name'), values: this.list(`Filter.${n}.Value`) }));
  }

  /** Tag.N.Key / Tag.N.Value under a prefix ('Tag', 'TagSpecification.1.Tag'); values may be absent where `valueOptional`. */
  tags(prefix: string, valueOptional = false): Array<{ key: string; value: string | undefined }> {
    return this.indexes(prefix).map((n) => {
      const key = this.required(`${prefix}.${n}.Key`, 'the tag\'s key');
      const value = valueOptional ? this.optional(`${prefix}.${n}.Value`) : (this.optional(`${prefix}.${n}.Value`) ?? '');
      return { key, value };
    });
  }

  /** Refuses what no part of the action read. */
  checkAllRead(): void {
    for (const name of this.all.keys()) {
      if (!this.read.has(name)) throw new Ec2Error('UnknownParameter', `The parameter ${name.slice(0, 100)} is not recognized (vws's EC2 front-end does not support it; see docs/ec2.md)`);
    }
  }
}
