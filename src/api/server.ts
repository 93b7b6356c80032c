// The REST API under /v1: validation from the same schemas as the OpenAPI document, bearer
// tokens on every endpoint but /v1/health, and errors that carry a stable code and a message a
// person can act on.

import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { authenticate, type Caller } from './auth.ts';
import type { ApiContext, ServerOptions } from './context.ts';
import { ApiError, forbidden } from './errors.ts';
import { guardStore, StoreUnavailable } from '../store/store-failure.ts';
import { Metrics } from './metrics.ts';
import { collectRoutes, openApiDocument } from './openapi.ts';
import { requireRoles, role, roleOf } from './route-roles.ts';
import { installValidation } from './validation.ts';
import { registerAdminRoutes } from './routes/admin.ts';
import { registerEventRoutes } from './routes/events.ts';
import { registerImageRoutes } from './routes/images.ts';
import { registerLeaseRoutes, registerMigration, registerUsageRoutes, registerWorkspaceActions } from './routes/leases.ts';
import { registerNodeRoutes } from './routes/nodes.ts';
import { acceptAgents } from './agent-channel.ts';

export type { ApiContext, ServerOptions } from './context.ts';

export function buildServer(opts: ServerOptions): FastifyInstance {
  const app = Fastify({
    logger: opts.logger ?? false,
    ...(opts.https ? { https: opts.https } : {}),
    // JSON bodies are small; image content is streamed by its own route (routes/images.ts).
    bodyLimit: 1024 * 1024,
  }) as unknown as FastifyInstance;
  // A failing store answers 503, not a refusal of the caller (see sendError).
  const store = guardStore(opts.store);
  const ctx: ApiContext = { ...opts, store, metrics: new Metrics() };
  // Unknown fields are errors, not silently dropped; bodies are not coerced (validation.ts).
  installValidation(app);
  requireRoles(app);
  collectRoutes(app);
  app.decorateRequest('caller', null as unknown as Caller);
  app.setErrorHandler((err: FastifyError, _req, reply) => sendError(reply, err));
  app.setNotFoundHandler((req, reply) => sendError(reply, new ApiError('not-found', `no route ${req.method} ${req.url}; see /v1/openapi.json`)));

  app.get('/v1/health', role('public'), async () => ({ status: 'ok', version: opts.version }));
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const needed = roleOf(req);
    if (needed === 'public') return;
    const caller = await authenticate(store, req.headers.authorization, opts.now());
    if (!caller) {
      return sendError(reply.header('www-authenticate', 'Bearer'), new ApiError('unauthorized', 'send a valid token as "Authorization: Bearer <token>" (vws login stores one)'));
    }
    req.caller = caller;
    if (needed === 'admin' && !caller.user.isAdmin) return sendError(reply, forbidden(`${req.method} ${req.routeOptions.url} is for administrators`));
  });
  app.get('/v1/openapi.json', role('user'), async () => openApiDocument(app, opts.version));
  if (opts.agents) acceptAgents(app, opts.agents, store, opts.now);
  registerLeaseRoutes(app, ctx);
  registerUsageRoutes(app, ctx);
  registerWorkspaceActions(app, ctx);
  registerMigration(app, ctx);
  registerNodeRoutes(app, ctx);
  registerAdminRoutes(app, ctx);
  registerImageRoutes(app, ctx);
  registerEventRoutes(app, ctx);
  app.get('/v1/schedule', { ...role('admin'), schema: { tags: ['nodes'], summary: 'Every lease\'s reservations, past and planned, as vws.schedule/v1 JSON Lines (admin)' } }, async (req, reply) => {
    reply.type('application/x-ndjson');
    return `${[...opts.service.scheduleExport()].join('\n')}\n`;
  });
  app.get('/metrics', role('admin'), async (_req, reply) => {
    reply.type('text/plain; version=0.0.4');
    return ctx.metrics.render(await store.countLeasesByStatus(), opts.service);
  });
  return app;
}

/**
 * Every error answer: refusals with their status from the one table, Fastify's own 4xx (bad JSON,
 * a body too large) under the table's codes, a failed store as 503, anything else as a bug (500).
 */
function sendError(reply: FastifyReply, err: FastifyError | ApiError | Error): FastifyReply {
  if (err instanceof ApiError) return reply.code(err.status).send(err.body);
  const fe = err as FastifyError;
  if (fe.validation && fe.validation.length > 0) {
    const v = fe.validation[0];
    const extra = (v.params as { additionalProperty?: string }).additionalProperty;
    const where = `${fe.validationContext ?? 'body'}${v.instancePath.replaceAll('/', '.')}${extra ? `.${extra}` : ''}`;
    const message = extra ? `unknown field '${extra}': remove it (see /v1/openapi.json for the fields)` : `${v.message ?? 'is invalid'}`;
    return sendError(reply, new ApiError('invalid-request', `${where}: ${message}`, { path: where }));
  }
  if (err instanceof StoreUnavailable) {
    reply.log.error(err);
    return sendError(reply, new ApiError('store-unavailable', `${err.message} (the request changed nothing)`));
  }
  if (fe.statusCode && fe.statusCode < 500) {
    const code = fe.statusCode === 413 ? 'too-large' : fe.statusCode === 415 ? 'unsupported-media-type' : 'invalid-request';
    return sendError(reply, new ApiError(code, err.message));
  }
  reply.log.error(err);
  return sendError(reply, new ApiError('internal', `the server failed: ${err.message}`));
}
