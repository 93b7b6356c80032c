import type { FastifyInstance } from 'fastify';
import { valueOr } from '../errors.ts';
import { role } from '../route-roles.ts';
import { BackendList, IdParam, NodeBody, NodeList } from '../schemas.ts';
import type { ApiContext } from '../context.ts';

export function registerNodeRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post('/v1/nodes', { ...role('admin'), schema: { body: NodeBody, tags: ['nodes'], summary: 'Add a node to the pool' } }, async (req, reply) => {
    const b = req.body as { id: string; cpu: number; memoryMiB: number; diskMiB?: number; bandwidthMbps?: number };
    const row = valueOr(await ctx.service.pool.addNode({ id: b.id, cpu: b.cpu, memoryMiB: b.memoryMiB, diskMiB: b.diskMiB ?? 0, ...(b.bandwidthMbps !== undefined ? { bandwidthMbps: b.bandwidthMbps } : {}) }));
    return reply.code(201).send(row);
  });

  app.get('/v1/nodes', { ...role('admin'), schema: { response: { 200: NodeList }, tags: ['nodes'], summary: 'The pool: capacity, status, what runs on each node and, with agents, how fast its VM operations are' } }, async () => {
    const rows = await ctx.store.listNodes();
    return {
      nodes: rows.map((n) => {
        const estimates = ctx.service.pool.nodeEstimates(n.id);
        const backend = ctx.service.backendOfNode(n.id);
        return { ...n, ...(backend !== undefined ? { backend } : {}), leases: ctx.service.pool.leasesOnNode(n.id), ...(estimates !== undefined ? { estimates } : {}) };
      }),
    };
  });

  app.get('/v1/backends', { ...role('user'), schema: { response: { 200: BackendList }, tags: ['nodes'], summary: 'Where leases may run: the site\'s pool and the back-ends they burst to, what each can do, whether the caller may run there, and the prices' } }, async (req) => {
    return ctx.service.backendsFor({ owner: req.caller.user.id, group: null, memberOf: req.caller.groups });
  });

  app.post('/v1/nodes/:id/drain', { ...role('admin'), schema: { params: IdParam, tags: ['nodes'], summary: 'No new leases on the node; those there run on' } }, async (req) => {
    const { id } = req.params as { id: string };
    return valueOr(await ctx.service.pool.drainNode(id));
  });

  app.post('/v1/nodes/:id/evacuate', {
    ...role('admin'),
    schema: { params: IdParam, tags: ['nodes'], summary: 'Drain the node and move the reservations planned there that have not begun to other nodes, as they are; those that fit nowhere else renegotiate with their owners' },
  }, async (req) => {
    const { id } = req.params as { id: string };
    return valueOr(await ctx.service.pool.drainNode(id, true));
  });

  app.delete('/v1/nodes/:id', { ...role('admin'), schema: { params: IdParam, tags: ['nodes'], summary: 'Remove a drained, idle node' } }, async (req) => {
    const { id } = req.params as { id: string };
    valueOr(await ctx.service.pool.removeNode(id));
    return { removed: id };
  });
}
