// Statements per account and period, and per-lease usage records, metered from the schedule as
// charges are (core/metering.ts). A record's fields follow the OGF Usage Record (GFD.98, and UR
// 2.0's names): who, which lease, where, when, wall and core time, memory, and the charge.

import { accountOf, cpuOf, memoryOf, periodOf, type Period } from '../core/accounts.ts';
import type { LeaseRecord } from '../core/lease-record.ts';
import { meteredUsage, pastSegments } from '../core/metering.ts';
import type { ControlLoop } from './control-loop.ts';
import { chargeOf } from './prices.ts';
import { balanceOf } from './allocations.ts';
import { ownershipOf } from './inputs.ts';

export interface UsageRecord {
  recordId: string;
  globalJobId: string;
  localUserId: string;
  group: string | null;
  /** The lease kind, as a batch system's queue would be named. */
  queue: string;
  status: string;
  machineName: string;
  nodeCount: number;
  processors: number;
  memoryMiB: number;
  /** The first and last instant it ran within the period; null if it did not run in it. */
  startTime: number | null;
  endTime: number | null;
  /** Seconds it ran within the period (on all its nodes at once), and core-seconds. */
  wallDuration: number;
  cpuDuration: number;
  charge: number | null;
  dollars?: number;
  unit: string;
}

export interface Statement {
  account: string;
  unit: string;
  period: Period;
  /** The account's allocation, when its period is the one asked for; null otherwise or with no account. */
  allocation: number | null;
  charged: number;
  /** Spent and promised to live leases in the current period (what admission counts), when the account's period is the current one. */
  committed: number | null;
  byUser: Record<string, { leases: number; cpuDuration: number; charged: number }>;
  records: UsageRecord[];
}

function recordOf(loop: ControlLoop, l: LeaseRecord, owner: { owner: string; group: string | null }, period: Period, now: number, status: string): UsageRecord | null {
  const to = Math.min(period.to, now);
  const runs = pastSegments(l).filter((s) => s.kind === 'run' && s.start < to && Math.min(s.end, to) > period.from);
  const usage = meteredUsage(l, to, period.from);
  const billing = loop.backendOf(l.req.id).billing;
  const price = chargeOf(l.req, usage, loop.terms.current, billing);
  if (runs.length === 0 && !(price.amount ?? 0)) return null;
  const running = usage.running ?? { coreSeconds: 0, mibSeconds: 0 };
  const cpus = cpuOf(l.req);
  return {
    recordId: `${l.req.id}@${period.name}`, globalJobId: l.req.id, localUserId: owner.owner, group: owner.group, queue: l.req.kind, status,
    machineName: loop.scheduler.leaseBackend(l.req.id) ?? loop.scheduler.names[0], nodeCount: l.req.nodes, processors: cpus, memoryMiB: memoryOf(l.req),
    startTime: runs.length > 0 ? Math.max(period.from, Math.min(...runs.map((s) => s.start))) : null,
    endTime: runs.length > 0 ? Math.min(to, Math.max(...runs.map((s) => s.end))) : null,
    wallDuration: cpus > 0 ? Math.round(running.coreSeconds / cpus) : 0, cpuDuration: running.coreSeconds,
    charge: price.amount, ...(price.dollars !== undefined ? { dollars: price.dollars } : {}), unit: price.unit,
  };
}

/** The usage records of the leases `include` admits, for the period. */
export function usageRecords(loop: ControlLoop, period: Period, now: number, include: (own: { owner: string; group: string | null }) => boolean, statusOf: (id: string) => string): UsageRecord[] {
  const out: UsageRecord[] = [];
  for (const l of loop.scheduler.allLeases()) {
    const own = ownershipOf(loop.owners, l.req.id);
    if (!own || !include(own) || l.req.recurrence) continue;
    const r = recordOf(loop, l, own, period, now, statusOf(l.req.id));
    if (r) out.push(r);
  }
  return out;
}

/** A group's statement for a period. */
export function statementOf(loop: ControlLoop, group: string, period: Period, now: number, statusOf: (id: string) => string): Statement {
  const records = usageRecords(loop, period, now, (o) => o.group === group, statusOf);
  // Keyed by user names, which may be any: no prototype for one to land on.
  const byUser: Statement['byUser'] = Object.create(null) as Statement['byUser'];
  let charged = 0;
  for (const r of records) {
    const u = (byUser[r.localUserId] ??= { leases: 0, cpuDuration: 0, charged: 0 });
    u.leases++;
    u.cpuDuration += r.cpuDuration;
    u.charged += r.charge ?? 0;
    charged += r.charge ?? 0;
  }
  const account = accountOf(loop.terms.current, group);
  const sameKind = account !== undefined && periodOf(period.from, account.period).name === period.name;
  const current = sameKind && period.from <= now && now < period.to ? balanceOf(loop, group, now) : null;
  return {
    account: group, unit: loop.terms.current.unit.name, period, allocation: sameKind ? account.allocation : null,
    charged: Math.round(charged * 1e6) / 1e6, committed: current ? Math.round(current.spent * 1e6) / 1e6 : null, byUser, records,
  };
}
