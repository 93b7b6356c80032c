// GET /v1/slots: the slot table over a window of time, for the dashboard's Gantt. Any user sees the
// whole pool's occupancy (a research cloud's users plan around it), but only the leases they may
// see by name: the others are drawn as busy, with neither id nor owner.

import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { canSee } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { invalidRequest } from '../errors.ts';
import { LONGEST_SECONDS } from '../limits.ts';
import { role } from '../route-roles.ts';
import { Instant } from '../schemas.ts';
import { slotView } from '../../control/slot-view.ts';

const SlotQuery = Type.Object({ from: Type.Optional(Instant('epoch seconds: the window\'s start (an hour ago)')), to: Type.Optional(Instant('epoch seconds: its end (a day from now), at most 366 days after from')) }, { additionalProperties: false });

export function registerSlotRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/v1/slots', { ...role('user'), schema: { querystring: SlotQuery, tags: ['nodes'], summary: 'The slot table over [from, to): nodes, and each lease\'s segments there (leases the caller may not see are drawn as busy, without id)' } }, async (req) => {
    const q = req.query as { from?: number; to?: number };
    const now = ctx.now();
    const from = q.from ?? now - 3600;
    const to = q.to ?? now + 86_400;
    if (to <= from) throw invalidRequest('querystring.to', `to (${to}) must be after from (${from})`);
    if (to - from > LONGEST_SECONDS) throw invalidRequest('querystring.to', `a window is at most ${LONGEST_SECONDS} seconds (366 days); this one is ${to - from}`);
    const service = ctx.service;
    const rows = new Map((await ctx.store.listNodes()).map((n) => [n.id, n]));
    const nodes = service.scheduler.nodes.map((n) => {
      const row = rows.get(n.id);
      return { id: n.id, cpu: n.cpu, memoryMiB: n.memoryMiB, status: row?.status ?? 'removed', departsAt: row?.departsAt ?? null };
    });
    const leases = slotView(service.scheduler.allLeases(), from, to).map((l) => {
      const own = service.ownerOf(l.id);
      const visible = own !== undefined && canSee(req.caller, { owner: own.owner, group: own.group });
      return visible ? { ...l, owner: own.owner } : { ...l, id: null, owner: null };
    });
    return { now, from, to, nodes, leases };
  });
}
