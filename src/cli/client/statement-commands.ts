// vws account list|statement|set: the groups' accounts, their statements for a period (a table,
// CSV or JSON), and an administrator granting an allocation (a change of the site's terms).

import { type Command, connect, emit, enc } from './command.ts';
import { UsageError } from '../usage-error.ts';
import { table } from './tables.ts';

interface AccountsBody { unit: string; accounts: Array<{ group: string; period: string; periodKind: string; allocation: number; charged: number; committed: number | null; left: number }> }
interface Record_ { globalJobId: string; localUserId: string; group: string | null; queue: string; status: string; machineName: string; nodeCount: number; processors: number; memoryMiB: number; startTime: number | null; endTime: number | null; wallDuration: number; cpuDuration: number; charge: number | null; dollars?: number; unit: string }
interface StatementBody { account: string; unit: string; period: { name: string; from: number; to: number }; allocation: number | null; charged: number; committed: number | null; byUser: Record<string, { leases: number; cpuDuration: number; charged: number }>; records: Record_[] }

const iso = (t: number | null): string => (t === null ? '' : new Date(t * 1000).toISOString());
const csvCell = (v: string | number | null | undefined): string => (typeof v === 'string' && /[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v === null || v === undefined ? '' : String(v));
const CSV_FIELDS = ['globalJobId', 'localUserId', 'group', 'queue', 'status', 'machineName', 'nodeCount', 'processors', 'memoryMiB', 'startTime', 'endTime', 'wallDuration', 'cpuDuration', 'charge', 'dollars', 'unit'] as const;

function statementText(s: StatementBody): string {
  const head = [
    `account ${s.account}, ${s.period.name} (${iso(s.period.from)} to ${iso(s.period.to)})`,
    `charged ${s.charged.toFixed(2)} ${s.unit}${s.allocation !== null ? ` of an allocation of ${s.allocation} ${s.unit}` : ''}${s.committed !== null ? `; spent or promised to live leases: ${s.committed.toFixed(2)}` : ''}`,
  ];
  const users = table(['USER', 'LEASES', 'CORE-HOURS', `CHARGED (${s.unit})`], Object.entries(s.byUser).sort(([a], [b]) => a.localeCompare(b)).map(([u, x]) => [u, String(x.leases), (x.cpuDuration / 3600).toFixed(2), x.charged.toFixed(2)]));
  const records = table(['LEASE', 'USER', 'KIND', 'STATUS', 'ON', 'CORES', 'FROM', 'TO', 'CORE-HOURS', 'CHARGE'], s.records.map((r) => [
    r.globalJobId, r.localUserId, r.queue, r.status, r.machineName, String(r.processors), iso(r.startTime), iso(r.endTime), (r.cpuDuration / 3600).toFixed(2), r.charge === null ? `${r.dollars} USD` : r.charge.toFixed(2),
  ]));
  return [...head, '', s.records.length > 0 ? users : 'no usage in this period', ...(s.records.length > 0 ? ['', records] : [])].join('\n');
}

export const STATEMENT_COMMANDS: Record<string, Command> = {
  list: async (args) => {
    const res = await connect(args).get<AccountsBody>('/v1/accounts');
    const b = res.body;
    return emit(args, b, () => (b.accounts.length === 0 ? 'no accounts you may see: allocations are set in the site\'s terms (vws account set, admin)' : table(['GROUP', 'PERIOD', 'ALLOCATION', `CHARGED (${b.unit})`, 'COMMITTED', 'LEFT'], b.accounts.map((a) => [
      a.group, a.period, String(a.allocation), a.charged.toFixed(2), a.committed === null ? '-' : a.committed.toFixed(2), a.left.toFixed(2),
    ]))));
  },
  statement: async (args) => {
    const group = args.positionals[0];
    const period = args.string('period');
    const res = await connect(args).get<StatementBody>(`/v1/accounts/${enc(group)}/statement`, { period });
    if (args.flag('csv')) {
      process.stdout.write(`${CSV_FIELDS.join(',')}\n${res.body.records.map((r) => CSV_FIELDS.map((f) => csvCell(r[f])).join(',')).join('\n')}${res.body.records.length > 0 ? '\n' : ''}`);
      return 0;
    }
    return emit(args, res.body, () => statementText(res.body));
  },
  set: async (args) => {
    const group = args.positionals[0];
    const text = args.required('allocation', 'N (the units granted each period)');
    const allocation = Number(text);
    if (text.trim() === '' || !Number.isFinite(allocation) || allocation < 0) throw new UsageError(`--allocation must be a number >= 0, got '${text}'`);
    const period = args.string('period') ?? 'month';
    if (!['month', 'quarter', 'year'].includes(period)) throw new UsageError(`--period must be month, quarter or year, got '${period}'`);
    const api = connect(args);
    // The allocation is part of the terms: read them, change this account, put them back whole.
    const current = await api.get<{ version: number; terms: { accounts: Record<string, unknown> } & Record<string, unknown> }>('/v1/terms');
    const terms = { ...current.body.terms, accounts: { ...current.body.terms.accounts, [group]: { allocation, period } } };
    const res = await api.send<{ version: number }>('PUT', '/v1/terms', terms);
    return emit(args, res.body, () => `group ${group}: ${allocation} per ${period} (terms version ${res.body.version})`);
  },
};
