// Renegotiating a live lease over the API: a quote of the change (nothing written), and the
// change itself (made whole, or refused with nothing written). Only the lease's owner and
// administrators change it, decided on the matched route.

import type { FastifyInstance } from 'fastify';
import type { ChangeAnswer } from '../../control/lease-changes.ts';
import { valueOr } from '../errors.ts';
import { ChangeBody, IdParam } from '../schemas.ts';
import type { ApiContext } from '../context.ts';
import { role } from '../route-roles.ts';
import { leaseOut, ownLease } from './leases.ts';

/** The answer with node names, as the rest of the API names nodes. */
function named(ctx: ApiContext, a: ChangeAnswer): Omit<ChangeAnswer, 'nodes'> & { nodes?: string[] } {
  return { ...a, nodes: a.nodes?.map((n) => ctx.service.nodes.ids[n]) };
}

const SUMMARY = {
  'quote-change': 'What changing a live lease would do (when, where, at what price, whom it would preempt); refused, the nearest changes that would be accepted. Changes nothing',
  change: 'Change a live lease (duration, start, nodes, CPU, memory) as its quote says, whole; refused, nothing changes and the nearest changes that would be accepted come back',
};

export function registerLeaseChanges(app: FastifyInstance, ctx: ApiContext): void {
  for (const route of ['quote-change', 'change'] as const) {
    app.post(`/v1/leases/:id/${route}`, { ...role('user'), schema: { params: IdParam, body: ChangeBody, tags: ['leases'], summary: SUMMARY[route] } }, async (req) => {
      const { id } = req.params as { id: string };
      await ownLease(ctx, req.caller, id, 'change');
      const body = req.body as ChangeBody;
      if (route === 'quote-change') return { quote: named(ctx, valueOr(await ctx.service.quoteChange(id, body))) };
      const change = named(ctx, valueOr(await ctx.service.change(id, body)));
      return { change, lease: leaseOut(ctx, (await ctx.store.getLease(id))!, await ctx.store.workspacesOf(id)) };
    });
  }
}
