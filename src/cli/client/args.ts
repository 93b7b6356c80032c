// Command lines of the client commands: node:util parseArgs (strict, so a misspelt option is an
// error rather than silently ignored) plus the checks that turn text into the API's numbers.

import { parseArgs } from 'node:util';
import { UsageError } from '../usage-error.ts';
import type { Credentials } from './config.ts';

export type OptionKinds = Record<string, 'string' | 'boolean'>;

/** Every client command takes these. */
const COMMON: OptionKinds = { server: 'string', token: 'string', json: 'boolean' };

export class Args {
  private constructor(readonly command: string, private readonly values: Record<string, string | boolean | undefined>, readonly positionals: string[]) {}

  /**
   * `positionals` names the arguments in order; a trailing '?' marks one as optional.
   * `command` ("lease create") is how messages name the command.
   */
  static parse(command: string, argv: string[], options: OptionKinds, positionals: string[] = []): Args {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv, strict: true, allowPositionals: true,
        options: Object.fromEntries(Object.entries({ ...COMMON, ...options }).map(([k, type]) => [k, { type }])),
      });
    } catch (e) {
      throw new UsageError(`${command}: ${(e as Error).message.replace(/\. To specify a positional argument.*$/s, '')}`);
    }
    const required = positionals.filter((p) => !p.endsWith('?')).length;
    const got = parsed.positionals;
    if (got.length < required) throw new UsageError(`${command} needs ${positionals.slice(got.length, required).join(' ')}: vws ${command} ${positionals.join(' ')}`);
    if (got.length > positionals.length) throw new UsageError(`${command}: unexpected argument '${got[positionals.length]}'`);
    return new Args(command, parsed.values as Record<string, string | boolean | undefined>, got);
  }

  get json(): boolean {
    return this.values.json === true;
  }

  get credentials(): Partial<Credentials> {
    return { server: this.string('server'), token: this.string('token') };
  }

  string(name: string): string | undefined {
    return this.values[name] as string | undefined;
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
    const on = this.flag(name);
    const off = this.flag(`no-${name}`);
    if (on && off) throw new UsageError(`${this.command}: --${name} and --no-${name} contradict each other`);
    return on ? true : off ? false : undefined;
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
