// vws usage: what the leases the caller may see have used, per user and per group.

import { type Command, connect, emit } from './command.ts';
import { hours, table } from './tables.ts';

type Totals = Record<string, { coreSeconds: number; mibSeconds: number; leases: number }>;

function totalsTable(title: string, totals: Totals): string {
  const rows = Object.entries(totals).sort(([a], [b]) => a.localeCompare(b));
  if (rows.length === 0) return `no ${title.toLowerCase()}s with leases`;
  return table([title, 'LEASES', 'CORE-HOURS', 'GiB-HOURS'], rows.map(([name, u]) => [name, String(u.leases), hours(u.coreSeconds), hours(u.mibSeconds, 1024)]));
}

export const USAGE_COMMAND: Command = async (args) => {
  const res = await connect(args).get<{ users: Totals; groups: Totals }>('/v1/usage');
  return emit(args, res.body, () => `${totalsTable('USER', res.body.users)}\n\n${totalsTable('GROUP', res.body.groups)}`);
};
