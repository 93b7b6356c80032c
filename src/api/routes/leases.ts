import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { holdKindRefusal } from '../../core/holds.ts';
import type { Quote } from '../../core/negotiation.ts';
import type { Refusal } from '../../control/refusal.ts';
import type { Decision } from '../../core/scheduler.ts';
import type { LeaseRequest } from '../../core/types.ts';
import type { QuoteWithOptions } from '../../control/lease-service.ts';
import type { LeaseRow } from '../../store/store.ts';
import { type Caller, canSee } from '../auth.ts';
import { type ApiError, forbidden, invalidRequest, refused, valueOr } from '../errors.ts';
import { guestFields, shapeOf } from '../cluster-request.ts';
import { HoldBody, IdParam, LeaseSpec, MigrateBody } from '../schemas.ts';
import type { ApiContext } from '../context.ts';
import { role } from '../route-roles.ts';
import { type LeaseFigures, leaseOut as figuredLease, registerLeaseReads, specOf, visibleLease } from './lease-reads.ts';

/**
 * The kinds that use each time field: sent with another kind, a field is refused rather than kept
 * (a best-effort lease with a start was stored with a requested start nothing honoured).
 */
const FIELD_KINDS: Record<'start' | 'deadline' | 'recurrence', readonly LeaseSpec['kind'][]> = {
  start: ['exact', 'periodic', 'deadline'],
  deadline: ['deadline'],
  recurrence: ['periodic'],
};

/** The scheduler's request for an API lease spec (at `at` in the body); the image must be one the caller may use. */
async function toRequest(ctx: ApiContext, caller: Caller, spec: LeaseSpec, at = 'body'): Promise<LeaseRequest> {
  if (spec.group !== undefined && !caller.groups.includes(spec.group) && !caller.user.isAdmin) {
    throw forbidden(`you are not a member of group '${spec.group}'`);
  }
  for (const [field, kinds] of Object.entries(FIELD_KINDS)) {
    if (spec[field as keyof typeof FIELD_KINDS] !== undefined && !kinds.includes(spec.kind)) {
      throw invalidRequest(`${at}.${field}`, `a ${spec.kind} lease takes no ${field} (only ${kinds.join(', ')} leases do): remove it, or ask for one of those kinds`);
    }
  }
  const needsStart = spec.kind === 'exact' || spec.kind === 'periodic';
  if (needsStart && spec.start === undefined) throw invalidRequest(`${at}.start`, `a ${spec.kind} lease needs its start (epoch seconds)`);
  if (spec.kind === 'deadline' && spec.deadline === undefined) throw invalidRequest(`${at}.deadline`, 'a deadline lease needs its deadline (epoch seconds)');
  if (spec.kind === 'periodic' && !spec.recurrence) throw invalidRequest(`${at}.recurrence`, 'a periodic lease needs a recurrence (period, and count or until)');
  const shape = await shapeOf(ctx.store, caller, spec, at, ctx.now());
  const req: LeaseRequest = {
    id: `l-${randomUUID().slice(0, 13)}`,
    kind: spec.kind,
    arrival: 0,
    requestedStart: spec.start ?? null,
    duration: spec.duration,
    ...shape,
    preemptible: spec.preemptible ?? spec.kind === 'best-effort',
    ...guestFields(spec, at),
  };
  if (spec.deadline !== undefined) req.deadline = spec.deadline;
  if (spec.recurrence) req.recurrence = spec.recurrence;
  if (spec.backend !== undefined) req.backend = spec.backend;
  return req;
}

/** A quote with nodes by name and its alternatives in API terms. */
export function quoteOut(ctx: ApiContext, q: QuoteWithOptions | Quote, group: string | null) {
  if (q.ok) return { ...q, nodes: q.nodes.map((n) => ctx.service.nodes.ids[n]) };
  const alternative = 'alternative' in q && q.alternative ? { alternative: specOf(q.alternative, group) } : {};
  return { ...q, alternatives: q.alternatives.map((a) => ({ ...a, request: specOf(a.request, group) })), ...alternative };
}

/** A decision with nodes by name. */
function decisionOut(ctx: ApiContext, d: Decision) {
  return d.ok && d.nodes ? { ...d, nodes: d.nodes.map((n) => ctx.service.nodes.ids[n]) } : d;
}

/** A refusal with its alternatives in API terms, so that a client can send one as it is. */
function leaseRefusal(r: Refusal, group: string | null): ApiError {
  return refused(r, {
    ...(r.alternatives ? { alternatives: r.alternatives.map((a) => ('request' in a ? { ...a, request: specOf(a.request, group) } : a)) } : {}),
    ...(r.alternative ? { alternative: specOf(r.alternative, group) } : {}),
  });
}

/** The leader's figures of a lease: as of now, from its scheduler. */
function liveFigures(ctx: ApiContext): LeaseFigures {
  return (row) => {
    const usage = ctx.service.usageNow(row.id) ?? row.usage;
    const backend = ctx.service.backendOfLease(row.id) ?? row.request.backend ?? ctx.service.backendNames[0];
    return { usage, charge: ctx.service.chargeNow(row.request, usage), backend, usageAt: ctx.now() };
  };
}

/** A lease as clients read it from the leader. */
export function leaseOut(ctx: ApiContext, row: LeaseRow, workspaces?: unknown[]) {
  return figuredLease(liveFigures(ctx)(row, workspaces !== undefined)!, row, workspaces);
}

/**
 * A lease the caller may change: members of a group that shares it see it; only its owner and
 * administrators change it (cancel, commit, stop, suspend, resume).
 */
export async function ownLease(ctx: ApiContext, caller: Caller, id: string, action: string): Promise<LeaseRow> {
  const row = await visibleLease(ctx.store, caller, id);
  if (row.owner !== caller.user.id && !caller.user.isAdmin) throw forbidden(`only the owner of lease '${id}' (${row.owner}) or an administrator may ${action} it; its group's members see it`);
  return row;
}

export function registerLeaseRoutes(app: FastifyInstance, ctx: ApiContext): void {
  registerLeaseReads(app, { store: ctx.store, now: ctx.now, broker: ctx.broker, figures: liveFigures(ctx) });
  const timed = async <T>(fn: () => Promise<T>): Promise<T> => {
    const t0 = process.hrtime.bigint();
    try {
      return await fn();
    } finally {
      ctx.metrics.observe(Number(process.hrtime.bigint() - t0) / 1e9);
    }
  };

  app.post('/v1/leases', { ...role('user'), schema: { body: LeaseSpec, tags: ['leases'], summary: 'Create a lease (any kind); refused requests change nothing' } }, async (req, reply) => {
    const spec = req.body as LeaseSpec;
    const request = await toRequest(ctx, req.caller, spec);
    const key = req.headers['idempotency-key'];
    const result = await timed(() => ctx.service.create(req.caller.user.id, spec.group ?? null, request, typeof key === 'string' ? key : undefined));
    if (!result.ok) throw leaseRefusal(result, spec.group ?? null);
    const { lease, decision, replayed } = result.value;
    return reply.code(replayed ? 200 : 201).send({ lease: leaseOut(ctx, lease), decision: decisionOut(ctx, decision) });
  });

  app.post('/v1/leases/quote', { ...role('user'), schema: { body: LeaseSpec, tags: ['leases'], summary: 'What the scheduler would do now, without doing it' } }, async (req) => {
    const spec = req.body as LeaseSpec;
    const request = await toRequest(ctx, req.caller, spec);
    return quoteOut(ctx, await timed(() => ctx.service.quote(request, { owner: req.caller.user.id, group: spec.group ?? null })), spec.group ?? null);
  });

  app.post('/v1/leases/hold', { ...role('user'), schema: { body: HoldBody, tags: ['leases'], summary: 'Place a lease and hold it for ttl seconds until committed' } }, async (req, reply) => {
    const { lease: spec, ttl } = req.body as { lease: LeaseSpec; ttl: number };
    // Before the lease's own checks: an image or start missing does not matter for a kind that cannot be held.
    const unholdable = holdKindRefusal(spec.kind);
    if (unholdable) throw invalidRequest('body.lease.kind', unholdable.message);
    const request = await toRequest(ctx, req.caller, spec, 'body.lease');
    const result = await timed(() => ctx.service.hold(req.caller.user.id, spec.group ?? null, request, ttl));
    if (!result.ok) throw leaseRefusal(result, spec.group ?? null);
    const { lease, decision } = result.value;
    return reply.code(201).send({ lease: leaseOut(ctx, lease), decision: decisionOut(ctx, decision), heldUntil: ctx.service.heldUntil(lease.id) });
  });

  app.post('/v1/leases/:id/commit', { ...role('user'), schema: { params: IdParam, tags: ['leases'] } }, async (req) => {
    const { id } = req.params as { id: string };
    await ownLease(ctx, req.caller, id, 'commit');
    valueOr(await ctx.service.commit(id));
    return { lease: leaseOut(ctx, (await ctx.store.getLease(id))!) };
  });

  app.delete('/v1/leases/:id', { ...role('user'), schema: { params: IdParam, tags: ['leases'], summary: 'Cancel a lease (its owner or an administrator; members of its group only see it)' } }, async (req) => {
    const { id } = req.params as { id: string };
    await ownLease(ctx, req.caller, id, 'cancel');
    valueOr(await ctx.service.cancel(id, req.caller.user.id));
    return { lease: leaseOut(ctx, (await ctx.store.getLease(id))!) };
  });
}

/** Usage summed per user and per group, over the leases the caller may see. */
export function registerUsageRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/v1/usage', { ...role('user'), schema: { tags: ['usage'], summary: 'Core-seconds, MiB-seconds and charges (in the site\'s unit, and dollars on billing back-ends) per user and per group' } }, async (req) => {
    const rows = (await ctx.store.listLeases({ limit: 1_000_000 })).filter((r) => canSee(req.caller, r));
    type Totals = { coreSeconds: number; mibSeconds: number; leases: number; charge: number; dollars: number };
    // Keyed by user and group names, which may be any ("constructor"): no prototype for one to land on.
    const byUser = Object.create(null) as Record<string, Totals>;
    const byGroup = Object.create(null) as Record<string, Totals>;
    for (const r of rows) {
      const usage = ctx.service.usageNow(r.id) ?? r.usage;
      const charge = ctx.service.chargeNow(r.request, usage);
      const add = (into: typeof byUser, key: string): void => {
        const u = (into[key] ??= { coreSeconds: 0, mibSeconds: 0, leases: 0, charge: 0, dollars: 0 });
        u.leases++;
        for (const e of Object.values(usage)) {
          u.coreSeconds += e!.coreSeconds;
          u.mibSeconds += e!.mibSeconds;
        }
        // Dollars without a conversion into the unit are kept apart rather than counted as nothing.
        u.charge += charge.amount ?? 0;
        u.dollars += charge.dollars ?? 0;
      };
      add(byUser, r.owner);
      if (r.group) add(byGroup, r.group);
    }
    return { unit: ctx.service.prices.unit, users: byUser, groups: byGroup };
  });
}

/** An administrator moves a running lease's VMs to other nodes while they run. */
export function registerMigration(app: FastifyInstance, ctx: ApiContext): void {
  app.post('/v1/leases/:id/migrate', { ...role('admin'), schema: { params: IdParam, body: MigrateBody, tags: ['workspaces'], summary: 'Move a running lease to other nodes while it runs (live migration; admin)' } }, async (req) => {
    const { id } = req.params as { id: string };
    await visibleLease(ctx.store, req.caller, id);
    valueOr(await ctx.service.migrate(id, (req.body as { nodes: string[] }).nodes));
    return { lease: leaseOut(ctx, (await ctx.store.getLease(id))!, await ctx.store.workspacesOf(id)) };
  });
}

/** What an owner does to its lease's workspaces; a lease's VMs are started, suspended and stopped together. */
export function registerWorkspaceActions(app: FastifyInstance, ctx: ApiContext): void {
  for (const action of ['stop', 'suspend', 'resume'] as const) {
    const handler = async (req: { params: unknown; caller: Caller }) => {
      const { id } = req.params as { id: string };
      await ownLease(ctx, req.caller, id, action);
      valueOr(await ctx.service.act(id, action));
      return { lease: leaseOut(ctx, (await ctx.store.getLease(id))!, await ctx.store.workspacesOf(id)) };
    };
    app.post(`/v1/leases/:id/${action}`, { ...role('user'), schema: { params: IdParam, tags: ['workspaces'], summary: `${action} all of the lease's workspaces` } }, handler);
    app.post(`/v1/leases/:id/workspaces/:index/${action}`, { ...role('user'), schema: { tags: ['workspaces'], summary: `${action} the workspace (its whole lease: a lease's VMs move together)` } }, handler);
  }
}
