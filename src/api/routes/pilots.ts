// The pilots (administrators): the batch jobs a pilot back-end submitted, and their nodes in the
// pool; drain one (no new leases, it goes once idle) or cancel it (what runs there is suspended
// within the grace time and resumes on another pilot). A service without pilots says so.

import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ApiError, notFound } from '../errors.ts';
import { role } from '../route-roles.ts';
import type { ApiContext } from '../context.ts';

/** A Slurm job id: what a pilot is named by. */
const PilotParam = Type.Object({ id: Type.String({ pattern: '^[1-9][0-9]{0,18}$', description: 'a pilot\'s batch job id (digits)' }) }, { additionalProperties: false });

export function registerPilotRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const pilots = () => {
    if (!ctx.pilots) throw new ApiError('unsupported', 'this service runs no pilots: its nodes do not come from a batch system (vws serve --driver pilot --pilot-config FILE)');
    return ctx.pilots;
  };
  app.get('/v1/pilots', { ...role('admin'), schema: { tags: ['pilots'], summary: 'The pilot jobs the batch system knows, with their state, end, and their nodes in the pool' } }, async () => ({ pilots: await pilots().list() }));
  app.post('/v1/pilots/:id/drain', { ...role('admin'), schema: { params: PilotParam, tags: ['pilots'], summary: 'The pilot takes no new leases and goes back to the batch system once idle' } }, async (req) => {
    const { id } = req.params as { id: string };
    if (!(await pilots().drain(id))) throw notFound('pilot', id);
    return { drained: id };
  });
  app.post('/v1/pilots/:id/cancel', { ...role('admin'), schema: { params: PilotParam, tags: ['pilots'], summary: 'The pilot goes now: its VMs are suspended within the grace time and resume on another pilot' } }, async (req) => {
    const { id } = req.params as { id: string };
    if (!(await pilots().cancel(id))) throw notFound('pilot', id);
    return { cancelled: id };
  });
}
