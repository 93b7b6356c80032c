// The lease reads (GET /v1/leases, /v1/leases/{id}, its workspaces), served alike by the leader
// and by a follower, which reads the store instead of asking the leader. The one difference is
// where a lease's figures come from (LeaseFigures): the leader's are as of now, from its
// scheduler; a follower's are the row's, as the leader wrote them at updatedAt. Where a follower
// cannot answer as the leader would, it hands the request to the leader (`elsewhere`).

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ContextBroker } from '../../broker/broker.ts';
import type { LeaseRequest } from '../../core/types.ts';
import type { LeaseRow, LeaseStatus, StoredPrice, Store } from '../../store/store.ts';
import { type Caller, canSee } from '../auth.ts';
import { notFound } from '../errors.ts';
import { roleSpecOf } from '../cluster-request.ts';
import { IdParam, LeaseList, LeaseQuery, type LeaseSpec } from '../schemas.ts';
import { role } from '../route-roles.ts';
import { withContext } from '../lease-context.ts';
import { limitsOf } from '../../drivers/leased-limits.ts';

/** What a lease has used and been charged, counted up to `usageAt`, and the back-end it runs on. */
export interface Figures {
  usage: LeaseRow['usage'];
  charge: StoredPrice;
  backend: string;
  usageAt: number;
}

/** A lease's figures; null where this server cannot give them as the leader would. */
export type LeaseFigures = (row: LeaseRow, detail: boolean) => Figures | null;

export interface LeaseReadContext {
  store: Store;
  now(): number;
  broker?: ContextBroker;
  figures: LeaseFigures;
  /** Answers a request this server cannot (a follower hands it to the leader); absent on the leader, whose figures always answer. */
  elsewhere?: (req: FastifyRequest, reply: FastifyReply) => void;
}

/**
 * A follower's figures: the row's, written by the leader with the row. Without them (a row written
 * before migration 11) or for a cluster lease's detail (its context lives in the leader's broker),
 * only the leader can answer.
 */
export const storedFigures: LeaseFigures = (row, detail) => {
  if (row.backend === undefined || row.charge === undefined) return null;
  if (detail && row.request.roles) return null;
  return { usage: row.usage, charge: row.charge, backend: row.backend, usageAt: row.updatedAt };
};

/** A scheduler request back in the API's terms, so that a client can send it as it is. */
export function specOf(req: LeaseRequest, group: string | null = null): LeaseSpec {
  const shape = req.roles
    ? { roles: req.roles.map(roleSpecOf) }
    : { nodes: req.nodes, cpu: req.perNode.cpu, memoryMiB: req.perNode.memoryMiB, diskMiB: req.perNode.diskMiB, ...limitsOf(req.perNode) };
  const spec: LeaseSpec = { kind: req.kind, ...shape, duration: req.duration, preemptible: req.preemptible };
  if (req.requestedStart !== null) spec.start = req.requestedStart;
  if (req.deadline !== undefined) spec.deadline = req.deadline;
  if (req.image && !req.roles) spec.image = req.image.id;
  if (req.recurrence) spec.recurrence = req.recurrence;
  if (req.userData !== undefined) spec.userData = req.userData;
  if (req.sshPublicKeys) spec.sshPublicKeys = [...req.sshPublicKeys];
  if (req.backend !== undefined) spec.backend = req.backend;
  if (group) spec.group = group;
  return spec;
}

/** A lease as clients read it: its row, with its figures (what it has used and been charged, and where it runs). */
export function leaseOut(figures: Figures, row: LeaseRow, workspaces?: unknown[]) {
  const { request, usage: _stored, charge: _charged, backend: _where, ...rest } = row;
  const { usage, charge, backend, usageAt } = figures;
  // A lease waiting on the pool that the site lets burst later says where and when, until it has moved.
  const burst = request.burst && backend !== request.burst.backend ? { burst: request.burst } : {};
  return { ...rest, usage, usageAt, charge, backend, ...burst, spec: specOf(request, row.group), ...(workspaces ? { workspaces } : {}) };
}

export async function visibleLease(store: Store, caller: Caller, id: string): Promise<LeaseRow> {
  const row = await store.getLease(id);
  if (!row || !canSee(caller, row)) throw notFound('lease', id);
  return row;
}

export function registerLeaseReads(app: FastifyInstance, ctx: LeaseReadContext): void {
  app.get('/v1/leases', { ...role('user'), schema: { querystring: LeaseQuery, response: { 200: LeaseList }, tags: ['leases'] } }, async (req, reply) => {
    const q = req.query as { status?: LeaseStatus; owner?: string; kind?: LeaseRequest['kind']; limit?: number; after?: string };
    const limit = q.limit ?? 100;
    const caller = req.caller;
    const filter = { status: q.status, kind: q.kind, after: q.after, limit: limit + 1, owner: q.owner } as Parameters<Store['listLeases']>[0] & object;
    if (!caller.user.isAdmin) {
      if (q.owner && q.owner !== caller.user.id && !(await sharesWith(ctx.store, caller, q.owner))) return { leases: [], next: null };
      if (!q.owner) filter.owners = await visibleOwners(ctx.store, caller);
    }
    const rows = (await ctx.store.listLeases(filter)).filter((r) => canSee(caller, r));
    const page = rows.slice(0, limit);
    const leases = [];
    for (const r of page) {
      const figures = ctx.figures(r, false);
      if (!figures) return ctx.elsewhere!(req, reply);
      leases.push(leaseOut(figures, r));
    }
    return { leases, next: rows.length > limit ? page[page.length - 1].id : null };
  });

  app.get('/v1/leases/:id', { ...role('user'), schema: { params: IdParam, tags: ['leases'] } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const row = await visibleLease(ctx.store, req.caller, id);
    const figures = ctx.figures(row, true);
    if (!figures) return ctx.elsewhere!(req, reply);
    const { workspaces, context } = withContext(ctx.broker, id, await ctx.store.workspacesOf(id));
    return { ...leaseOut(figures, row, workspaces), ...(context ? { context } : {}) };
  });

  app.get('/v1/leases/:id/workspaces', { ...role('user'), schema: { params: IdParam, tags: ['workspaces'] } }, async (req) => {
    const { id } = req.params as { id: string };
    await visibleLease(ctx.store, req.caller, id);
    return { workspaces: await ctx.store.workspacesOf(id) };
  });

  app.get('/v1/leases/:id/workspaces/:index', { ...role('user'), schema: { tags: ['workspaces'], summary: 'One workspace of a lease' } }, async (req) => {
    const { id, index } = req.params as { id: string; index: string };
    await visibleLease(ctx.store, req.caller, id);
    const ws = (await ctx.store.workspacesOf(id)).find((w) => String(w.index) === index);
    if (!ws) throw notFound('workspace', `${id}/${index}`);
    return ws;
  });
}

async function visibleOwners(store: Store, caller: Caller): Promise<string[]> {
  const owners = new Set([caller.user.id]);
  for (const g of caller.sharingGroups) for (const m of await store.membersOf(g)) owners.add(m);
  return [...owners];
}

async function sharesWith(store: Store, caller: Caller, owner: string): Promise<boolean> {
  return (await visibleOwners(store, caller)).includes(owner);
}
