// How rows become columns, shared by the SQLite and PostgreSQL stores: the same column names
// and encodings, so that the two cannot drift apart. JSON goes in as text (undefined, which JSON
// cannot hold, as null); a store that cannot bind booleans passes its own `flag`.

import type { BrokerKeyRow, ContextMemberRow, ImageRow, LeaseRow, NodeRow, TokenRow, WorkspaceRow } from './store.ts';

type Columns = Record<string, string | number | null>;

export function json(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/** A row, typed by to, or null when there is none (a store's lookups by key). */
export function mapped<R, T>(row: R | undefined, to: (row: R) => T): T | null {
  return row === undefined ? null : to(row);
}

export function checkLimit(limit: number): void {
  // Checked here so that both stores refuse the same limits the same way (SQLite reads a negative LIMIT as "none").
  if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`limit must be a whole number ≥ 0, got ${limit}`);
}

export function leaseColumns(l: LeaseRow): Columns {
  return {
    id: l.id, owner: l.owner, group_name: l.group, kind: l.kind, request: json(l.request), status: l.status,
    reason: l.reason === null ? null : json(l.reason),
    planned_start: l.plannedStart, planned_end: l.plannedEnd, actual_start: l.actualStart, actual_end: l.actualEnd,
    nodes: json(l.nodes), usage: json(l.usage), created_at: l.createdAt, updated_at: l.updatedAt,
    backend: l.backend ?? null, charge: l.charge === undefined ? null : json(l.charge),
  };
}

export function workspaceColumns(w: WorkspaceRow): Columns {
  return {
    lease_id: w.leaseId, idx: w.index, node: w.node, status: w.status, mac: w.mac, ip: w.ip, image: w.image,
    console: w.console, updated_at: w.updatedAt, role: w.role, member: w.member, hostname: w.hostname,
  };
}

export function nodeColumns(n: NodeRow): Columns {
  return { id: n.id, cpu: n.cpu, memory_mib: n.memoryMiB, disk_mib: n.diskMiB, bandwidth_mbps: n.bandwidthMbps, status: n.status, added_at: n.addedAt, departs_at: n.departsAt, pilot: n.pilot };
}

export function imageColumns<F extends boolean | number>(i: ImageRow, flag: (b: boolean) => F): Record<string, string | number | null | F> {
  return {
    name: i.name, size_mib: i.sizeMiB, sha256: i.sha256, owner: i.owner, group_name: i.group, visibility: i.visibility,
    uploaded: flag(i.uploaded), created_at: i.createdAt, boot: i.boot === null ? null : json(i.boot),
    description: i.description === null ? null : json(i.description),
  };
}

/** A row as a driver returns it (the driver boundary); the functions below type it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the database driver's rows are untyped; the functions below give them types
type Row = Record<string, any>;

/** The other way: `decode` turns a JSON column into its value (SQLite keeps text, PostgreSQL hands back jsonb parsed). */
export function leaseFrom(r: Row, decode: (v: unknown) => unknown = (v) => v): LeaseRow {
  return {
    id: r.id, owner: r.owner, group: r.group_name, kind: r.kind, request: decode(r.request) as LeaseRow['request'], status: r.status,
    reason: r.reason === null ? null : (decode(r.reason) as LeaseRow['reason']),
    plannedStart: r.planned_start, plannedEnd: r.planned_end, actualStart: r.actual_start, actualEnd: r.actual_end,
    nodes: decode(r.nodes) as string[], usage: decode(r.usage) as LeaseRow['usage'], createdAt: r.created_at, updatedAt: r.updated_at,
    ...(r.backend != null ? { backend: r.backend as string } : {}),
    ...(r.charge != null ? { charge: decode(r.charge) as NonNullable<LeaseRow['charge']> } : {}),
  };
}

export function workspaceFrom(r: Row): WorkspaceRow {
  return {
    leaseId: r.lease_id, index: r.idx, node: r.node, status: r.status, mac: r.mac, ip: r.ip, image: r.image,
    console: r.console, updatedAt: r.updated_at, role: r.role ?? null, member: r.member ?? null, hostname: r.hostname,
  };
}

export function nodeFrom(r: Row): NodeRow {
  return { id: r.id, cpu: r.cpu, memoryMiB: r.memory_mib, diskMiB: r.disk_mib, bandwidthMbps: r.bandwidth_mbps ?? null, status: r.status, addedAt: r.added_at, departsAt: r.departs_at ?? null, pilot: r.pilot ?? null };
}

export function imageFrom(r: Row, decode: (v: unknown) => unknown = (v) => v): ImageRow {
  return {
    name: r.name, sizeMiB: r.size_mib, sha256: r.sha256, owner: r.owner, group: r.group_name, visibility: r.visibility, uploaded: r.uploaded === true || r.uploaded === 1, createdAt: r.created_at,
    boot: r.boot === null || r.boot === undefined ? null : (decode(r.boot) as ImageRow['boot']),
    description: r.description === null || r.description === undefined ? null : (decode(r.description) as ImageRow['description']),
  };
}

export function contextMemberColumns(m: ContextMemberRow): Columns {
  return { lease_id: m.leaseId, member_id: m.memberId, secret_hash: m.secretHash, session_hash: m.sessionHash, progress: json(m.progress), updated_at: m.updatedAt };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a driver's row, typed here
export function contextMemberFrom(r: Record<string, any>, parse: (v: unknown) => unknown = (v) => v): ContextMemberRow {
  return { leaseId: r.lease_id, memberId: r.member_id, secretHash: r.secret_hash, sessionHash: r.session_hash, progress: parse(r.progress) as ContextMemberRow['progress'], updatedAt: Number(r.updated_at) };
}

export function tokenFrom(r: Row): TokenRow {
  return { id: r.id, userId: r.user_id, hash: r.hash, label: r.label, createdAt: r.created_at, expiresAt: r.expires_at };
}

export function brokerKeyFrom(r: Row): BrokerKeyRow {
  return { publicKey: r.public_key, privateKey: r.private_key, createdAt: Number(r.created_at) };
}
