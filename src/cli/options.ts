import { UsageError } from './usage-error.ts';

export function numberOption(name: string, raw: string | undefined, fallback: number, check: (n: number) => boolean = () => true, what = 'a number'): number {
  if (raw === undefined) return fallback;
  const value = raw === 'inf' || raw === 'infinity' ? Infinity : Number(raw);
  if (raw.trim() === '' || Number.isNaN(value) || !check(value)) throw new UsageError(`--${name} must be ${what}, got '${raw}'`);
  return value;
}

export function choiceOption<T extends string>(name: string, raw: string | undefined, choices: readonly T[], fallback: T): T {
  if (raw === undefined) return fallback;
  if (!(choices as readonly string[]).includes(raw)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}; got '${raw}'`);
  return raw as T;
}

export const positive = (n: number): boolean => n > 0;
export const nonNegative = (n: number): boolean => n >= 0 && Number.isFinite(n);
export const positiveInteger = (n: number): boolean => Number.isInteger(n) && n > 0;
