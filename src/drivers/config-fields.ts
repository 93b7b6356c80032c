// Reading a driver's configuration file strictly: each reader names the field that is missing,
// mistyped or unknown, in the driver's own error (what the file is, where in it), since a typo in
// such a file would otherwise act on the wrong account, partition or path.

import { readFileSync } from 'node:fs';

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The readers of one kind of file: `fail(where, message)` makes its error. */
export function configFields(fail: (where: string, message: string) => Error) {
  return {
    /** Refuses fields besides `allowed`. */
    only(where: string, o: Json, allowed: readonly string[]): void {
      const extra = Object.keys(o).filter((k) => !allowed.includes(k));
      if (extra.length > 0) throw fail(where, `unknown field${extra.length > 1 ? 's' : ''} ${extra.map((k) => `'${k}'`).join(', ')}; the fields are ${allowed.join(', ')}`);
    },
    object(where: string, v: unknown, shape: string): Json {
      if (!isObject(v)) throw fail(where, `must be an object ${shape}`);
      return v;
    },
    text(where: string, v: unknown): string {
      if (typeof v !== 'string' || v.trim() === '') throw fail(where, `must be a non-empty string, got ${JSON.stringify(v)}`);
      return v;
    },
    positive(where: string, v: unknown): number {
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw fail(where, `must be a number > 0, got ${JSON.stringify(v)}`);
      return v;
    },
    /** A whole number in [min, max]. */
    whole(where: string, v: unknown, min: number, max: number, what: string): number {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw fail(where, `must be a whole number of ${what}, ${min} to ${max}, got ${JSON.stringify(v)}`);
      return v;
    },
    /** Parses a file's JSON text, refusing what is not JSON with the file's name. */
    json(file: string, text: string): unknown {
      try {
        return JSON.parse(text);
      } catch (e) {
        throw fail(`in ${file}`, `is not JSON: ${(e as Error).message}`);
      }
    },
  };
}

/** A driver's configuration file's text, or a RangeError naming the option and why it cannot be read. */
export function readConfigFile(option: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new RangeError(`--${option} ${file} cannot be read: ${(e as Error).message}`, { cause: e });
  }
}
