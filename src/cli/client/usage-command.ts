// vws usage: what the leases the caller may see have used and been charged, per user and per
// group; vws backends: where leases may run, and whether the caller may run there.

import { type Command, connect, emit } from './command.ts';
import { hours, table } from './tables.ts';

type Totals = Record<string, { coreSeconds: number; mibSeconds: number; leases: number; charge?: number; dollars?: number }>;

function totalsTable(title: string, unit: string, totals: Totals): string {
  const rows = Object.entries(totals).sort(([a], [b]) => a.localeCompare(b));
  if (rows.length === 0) return `no ${title.toLowerCase()}s with leases`;
  return table([title, 'LEASES', 'CORE-HOURS', 'GiB-HOURS', `CHARGED (${unit})`, 'USD'], rows.map(([name, u]) => [
    name, String(u.leases), hours(u.coreSeconds), hours(u.mibSeconds, 1024), (u.charge ?? 0).toFixed(2), (u.dollars ?? 0).toFixed(4),
  ]));
}

export const USAGE_COMMAND: Command = async (args) => {
  const res = await connect(args).get<{ unit?: string; users: Totals; groups: Totals }>('/v1/usage');
  const unit = res.body.unit ?? 'SU';
  return emit(args, res.body, () => `${totalsTable('USER', unit, res.body.users)}\n\n${totalsTable('GROUP', unit, res.body.groups)}`);
};

interface BackendsBody {
  backends: Array<{ name: string; driver: string; capabilities: string[]; nodes: number; bills: boolean; mayRun: boolean | null; why?: string }>;
  policy: { burstAfterSeconds: number };
  prices: { unit: string; perCoreHour: number; perGiBHour: number; unitsPerDollar: Record<string, number | null> };
}

export const BACKENDS_COMMAND: Command = async (args) => {
  const res = await connect(args).get<BackendsBody>('/v1/backends');
  const b = res.body;
  return emit(args, b, () => {
    const rows = b.backends.map((x, k) => [
      x.name + (k === 0 ? ' (pool)' : ''), String(x.nodes), x.capabilities.join(',') || '-',
      x.bills ? `per instance${b.prices.unitsPerDollar[x.name] ? `, ${b.prices.unitsPerDollar[x.name]} ${b.prices.unit}/USD` : ', USD'}` : `${b.prices.perCoreHour} ${b.prices.unit}/core-hour`,
      x.mayRun === null ? 'yes' : x.mayRun ? 'yes' : `no: ${x.why ?? ''}`,
    ]);
    const policy = b.backends.length > 1 ? `\n\nleases run on the pool while it meets their start; a best-effort lease bursts when others wait ahead of it or the pool has no room within ${b.policy.burstAfterSeconds} s` : '';
    return table(['BACKEND', 'NODES', 'CAPABILITIES', 'PRICE', 'YOU MAY RUN'], rows) + policy;
  });
};
