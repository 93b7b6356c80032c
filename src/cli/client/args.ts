// A client command's parsed command line (commander parses it: see ../program.ts), and the checks
// that turn option text into the API's numbers with messages that name the option.

import type { Values } from '../values.ts';
import { UsageError } from '../usage-error.ts';
import type { Credentials } from './config.ts';

export class Args {
  /** `command` ("lease create") is how messages name the command; `values` are keyed by long option name. */
  constructor(readonly command: string, private readonly values: Values, readonly positionals: string[] = []) {}

  get json(): boolean {
    return this.values.json === true;
  }

  get credentials(): Partial<Credentials> {
    return { server: this.string('server'), token: this.string('token') };
  }

  string(name: string): string | undefined {
    const v = this.values[name];
    return typeof v === 'string' ? v : undefined;
  }

  /** A repeatable option's values, in the order given. */
  list(name: string): string[] {
    const v = this.values[name];
    return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
  }

  required(name: string, what: string): string {
    const v = this.string(name);
    if (v === undefined) throw new UsageError(`${this.command} needs --${name} ${what}`);
    return v;
  }

  flag(name: string): boolean {
    return this.values[name] === true;
  }

  /** An on/off option with a --no- twin; undefined when neither is given. */
  toggle(name: string): boolean | undefined {
    const v = this.values[name];
    return typeof v === 'boolean' ? v : undefined;
  }
}

export function integerOption(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number >= ${min}, got '${text}'`);
  return n;
}

export function positiveNumberOption(name: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a number > 0 (fractions allowed, e.g. 0.5), got '${text}'`);
  return n;
}

/** A positional argument that must be a whole number, such as a workspace index. */
export function indexArgument(name: string, text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new UsageError(`${name} must be a whole number >= 0, got '${text}'`);
  return Number(text);
}
