// Leases and workspaces as the API returns them, and as people read them.

import type { LeaseSpec } from './lease-spec.ts';
import { durationText } from './parse-time.ts';
import { fields, hours, orDash, table, when } from './tables.ts';

export const LEASE_STATUSES = ['pending', 'scheduled', 'deploying', 'running', 'suspending', 'suspended', 'resuming', 'ending', 'done', 'cancelled', 'rejected', 'failed', 'held', 'renegotiating'] as const;

/** Statuses a lease never leaves. */
export const FINAL_STATUSES: readonly string[] = ['done', 'cancelled', 'rejected', 'failed'];

export interface WorkspaceBody {
  leaseId: string;
  index: number;
  node: string | null;
  status: string;
  mac: string;
  ip: string | null;
  image: string | null;
  console: string | null;
  updatedAt: number;
  /** A cluster's VM: its role and which of the role's VMs it is; null otherwise (absent from older servers). */
  role?: string | null;
  member?: number | null;
  hostname?: string;
  /** A cluster member's context state, while the service's broker holds its lease's context. */
  context?: { state: string; reason: string | null; waitsFor: string[] };
}

/** A cluster lease's context: its status and each role's progress. */
export interface LeaseContextBody {
  status: string;
  reason: string | null;
  roles: Array<{ name: string; count: number; minCount: number; status: string; reported: number; done: number; failed: number }>;
}

export interface LeaseBody {
  id: string;
  owner: string;
  group: string | null;
  kind: string;
  status: string;
  /** While it renegotiates: the changes it is offered, and until when. */
  reason: { code: string; message: string; offers?: Array<{ kind: string; change: Record<string, number | string>; start: number; end: number }>; until?: number } | null;
  nodes: string[];
  plannedStart: number | null;
  plannedEnd: number | null;
  actualStart: number | null;
  actualEnd: number | null;
  usage: Record<string, { coreSeconds: number; mibSeconds: number }>;
  charge?: { amount: number | null; unit: string; dollars?: number };
  backend?: string;
  burst?: { backend: string; at: number };
  createdAt: number;
  updatedAt: number;
  spec: LeaseSpec;
  workspaces?: WorkspaceBody[];
  context?: LeaseContextBody;
}

export function leaseTable(leases: LeaseBody[]): string {
  if (leases.length === 0) return 'no leases';
  return table(
    ['ID', 'KIND', 'STATUS', 'OWNER', 'GROUP', 'NODES', 'START', 'END'],
    leases.map((l) => [l.id, l.kind, l.status, l.owner, orDash(l.group), String(vmsOf(l.spec)), when(l.actualStart ?? l.plannedStart), when(l.actualEnd ?? l.plannedEnd)]),
  );
}

/** How many VMs a lease asks for: its nodes, or its roles' counts. */
const vmsOf = (s: LeaseSpec): number => s.roles?.reduce((n, r) => n + r.count, 0) ?? s.nodes ?? 0;

const shapeText = (n: number | undefined, cpu: number | undefined, memoryMiB: number | undefined, diskMiB: number | undefined): string =>
  `${n} x (${cpu} CPU, ${memoryMiB} MiB${diskMiB ? `, ${diskMiB} MiB disk` : ''})`;

/** "2 x (1.5 CPU, 2048 MiB) for 2h30m, preemptible"; a cluster: "a cluster of 3 VMs in 2 roles for 1h" (its roles are listed apart). */
export function specText(s: LeaseSpec): string {
  const what = s.roles ? `a cluster of ${vmsOf(s)} VMs in ${s.roles.length} role${s.roles.length > 1 ? 's' : ''}` : shapeText(s.nodes, s.cpu, s.memoryMiB, s.diskMiB);
  const parts = [`${what} for ${durationText(s.duration)}`];
  if (s.preemptible) parts.push('preemptible');
  if (s.image) parts.push(`image ${s.image}`);
  if (s.deadline !== undefined) parts.push(`deadline ${when(s.deadline)}`);
  if (s.recurrence) parts.push(`every ${durationText(s.recurrence.period)}${s.recurrence.count ? `, ${s.recurrence.count} times` : ''}${s.recurrence.until ? ` until ${when(s.recurrence.until)}` : ''}`);
  if (s.userData !== undefined) parts.push(`user-data ${Buffer.byteLength(s.userData)} bytes`);
  if (s.sshPublicKeys?.length) parts.push(`${s.sshPublicKeys.length} ssh key${s.sshPublicKeys.length > 1 ? 's' : ''}`);
  return parts.join(', ');
}

/** One line per role: "head: 1 x (1 CPU, 512 MiB), image i, on public+private, provides nfs-export, requires -" */
export function roleLines(s: LeaseSpec): Array<[string, string]> {
  return (s.roles ?? []).map((r) => [`role ${r.name}`, [
    shapeText(r.count, r.cpu, r.memoryMiB, r.diskMiB), ...(r.minCount !== undefined ? [`at least ${r.minCount} up`] : []), `image ${r.image ?? '-'}`, `on ${r.networks.join('+')}`,
    `provides ${r.provides.join(' ') || '-'}`, `requires ${r.requires.join(' ') || '-'}`,
  ].join(', ')]);
}

export function usageTotals(usage: LeaseBody['usage']): { coreSeconds: number; mibSeconds: number } {
  const total = { coreSeconds: 0, mibSeconds: 0 };
  for (const u of Object.values(usage)) {
    total.coreSeconds += u.coreSeconds;
    total.mibSeconds += u.mibSeconds;
  }
  return total;
}

/** A lease renegotiating after a broken promise: what it may take instead, each as the command that takes it, and until when. */
function offerLines(l: LeaseBody): Array<[string, string]> {
  const offers = l.status === 'renegotiating' ? l.reason?.offers ?? [] : [];
  const lines = offers.map((o, k): [string, string] => [k === 0 ? 'offers' : '', `${o.kind}, runs ${when(o.start)} to ${when(o.end)}: vws lease change ${l.id}${Object.entries(o.change).map(([f, v]) => ` --${f === 'memoryMiB' ? 'memory' : f} ${v}`).join('')}`]);
  if (l.status === 'renegotiating') lines.push(['take one by', `${when(l.reason?.until ?? null)}, or the site's default applies`]);
  return lines;
}

export function leaseDetail(l: LeaseBody): string {
  const used = usageTotals(l.usage);
  const text = fields([
    ['lease', l.id],
    ['owner', l.owner],
    ['group', orDash(l.group)],
    ['kind', l.kind],
    ['status', l.status],
    ['reason', l.reason ? `${l.reason.message} (${l.reason.code})` : '-'],
    ['asked', specText(l.spec)],
    ...roleLines(l.spec),
    ['nodes', l.nodes.length ? l.nodes.join(', ') : '-'],
    ['planned', `${when(l.plannedStart)} to ${when(l.plannedEnd)}`],
    ['actual', `${when(l.actualStart)} to ${when(l.actualEnd)}`],
    ['backend', `${l.backend ?? '-'}${l.burst ? ` (moves to ${l.burst.backend} at ${when(l.burst.at)} if it has not begun)` : ''}`],
    ['used', `${hours(used.coreSeconds)} core-hours, ${hours(used.mibSeconds, 1024)} GiB-hours`],
    ['charged', l.charge ? chargeText(l.charge) : '-'],
    ['created', when(l.createdAt)],
    ...contextLines(l.context),
    ...offerLines(l),
  ]);
  return l.workspaces ? `${text}\n\n${workspaceTable(l.workspaces)}` : text;
}

/** "1.25 SU", "0.0104 USD" or both: a billing back-end's dollars beside the site's unit. */
export function chargeText(c: { amount: number | null; unit: string; dollars?: number }): string {
  const parts = [...(c.amount !== null ? [`${+c.amount.toFixed(4)} ${c.unit}`] : []), ...(c.dollars !== undefined ? [`${+c.dollars.toFixed(6)} USD`] : [])];
  return parts.length > 0 ? parts.join(' = ') : '-';
}

/** "context: failed, …" and one line per role: "context head: complete, 1 of 1 reported, 1 done, 0 failed (needs 1)". */
export function contextLines(c: LeaseContextBody | undefined): Array<[string, string]> {
  if (!c) return [];
  return [
    ['context', c.reason ? `${c.status}: ${c.reason}` : c.status],
    ...c.roles.map((r): [string, string] => [`context ${r.name}`, `${r.status}, ${r.reported} of ${r.count} reported, ${r.done} done, ${r.failed} failed (needs ${r.minCount})`]),
  ];
}

/** A workspace's context in a word or a few: complete, pending (waits for …), failed: why. */
export function workspaceContextText(c: WorkspaceBody['context']): string {
  if (!c) return '-';
  if (c.state === 'failed') return `failed: ${c.reason ?? 'no reason given'}`;
  if (c.state === 'pending' && c.waitsFor.length > 0) return `pending (waits for ${c.waitsFor.join(', ')})`;
  return c.state;
}

export function workspaceTable(workspaces: WorkspaceBody[]): string {
  if (workspaces.length === 0) return 'no workspaces yet';
  const roles = workspaces.some((w) => w.role);
  const contexts = workspaces.some((w) => w.context);
  const head = ['INDEX', ...(roles ? ['ROLE'] : []), 'HOSTNAME', 'NODE', 'STATUS', 'IP', 'MAC', 'IMAGE', 'CONSOLE', ...(contexts ? ['CONTEXT'] : [])];
  return table(head, workspaces.map((w) => [
    String(w.index), ...(roles ? [w.role ? `${w.role}/${w.member}` : '-'] : []), orDash(w.hostname ?? null), orDash(w.node), w.status, orDash(w.ip), w.mac, orDash(w.image), orDash(w.console),
    ...(contexts ? [workspaceContextText(w.context)] : []),
  ]));
}

export function workspaceDetail(w: WorkspaceBody): string {
  return fields([
    ['lease', w.leaseId], ['index', String(w.index)], ...(w.role ? [['role', `${w.role} (member ${w.member})`] as [string, string]] : []), ['hostname', orDash(w.hostname ?? null)], ['node', orDash(w.node)], ['status', w.status], ['ip', orDash(w.ip)],
    ['mac', w.mac], ['image', orDash(w.image)], ['console', orDash(w.console)], ['updated', when(w.updatedAt)],
  ]);
}
