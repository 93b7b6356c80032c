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

/** Where an agent (or a swarm of them) dials, and with what: --server, one URL or several separated by commas, and --token (or VWS_AGENT_TOKEN). */
export function agentDial(v: { server?: string; token?: string }): { servers: string[]; token: string } {
  const servers = (v.server ?? '').split(',').map((s) => s.trim());
  if (servers.some((s) => !/^https?:\/\/[^\s,]+$/.test(s))) throw new UsageError(`--server must be the service's http(s)://host:port, or its servers' separated by commas, got '${v.server ?? ''}'`);
  const token = v.token ?? process.env.VWS_AGENT_TOKEN;
  if (!token) throw new UsageError('--token (or VWS_AGENT_TOKEN) is needed: an administrator\'s token (vws token create)');
  return { servers, token };
}
