// The REST API under /v1: validation from the same schemas as the OpenAPI document, bearer
// tokens on every endpoint but /v1/health, and errors that carry a stable code and a message a
// person can act on.

import { EventEmitter } from 'node:events';
import type { FastifyInstance } from 'fastify';
import { apiApp } from './api-app.ts';
import type { ApiContext, ServerOptions } from './context.ts';
import { guardStore } from '../store/store-failure.ts';
import { Metrics } from './metrics.ts';
import { openApiDocument } from './openapi.ts';
import { role } from './route-roles.ts';
import { registerAdminRoutes } from './routes/admin.ts';
import { registerEventRoutes } from './routes/events.ts';
import { registerImageRoutes } from './routes/images.ts';
import { registerTrustRoutes } from './routes/trust.ts';
import { registerLeaseRoutes, registerMigration, registerUsageRoutes, registerWorkspaceActions } from './routes/leases.ts';
import { registerLeaseChanges } from './routes/lease-changes.ts';
import { registerNodeRoutes } from './routes/nodes.ts';
import { registerPilotRoutes } from './routes/pilots.ts';
import { registerSlotRoutes } from './routes/slots.ts';
import { registerDashboard } from './routes/dashboard.ts';
import { registerWhatIfRoutes } from './routes/what-if.ts';
import { registerTermsRoutes } from './routes/terms.ts';
import { registerAccountRoutes } from './routes/accounts.ts';
import { acceptAgents } from './agent-channel.ts';
import { registerContextRoutes } from './routes/context.ts';
import { registerEc2CredentialRoutes } from './routes/ec2-credentials.ts';

export type { ApiContext, ServerOptions } from './context.ts';

export function buildServer(opts: ServerOptions): FastifyInstance {
  // A failing store answers 503, not a refusal of the caller (api-app.ts, sendError).
  const store = guardStore(opts.store);
  const app = apiApp({ ...opts, store });
  const rightsChanged = new EventEmitter<{ changed: [] }>();
  // One listener per open event stream.
  rightsChanged.setMaxListeners(0);
  const ctx: ApiContext = { ...opts, store, metrics: new Metrics(), rightsChanged };
  app.get('/v1/health', role('public'), async () => ({ status: 'ok', version: opts.version, ...opts.leadership?.() }));
  app.get('/v1/openapi.json', role('user'), async () => openApiDocument(app, opts.version));
  if (opts.agents) acceptAgents(app, opts.agents, store, opts.now);
  registerLeaseRoutes(app, ctx);
  registerUsageRoutes(app, ctx);
  registerWorkspaceActions(app, ctx);
  registerMigration(app, ctx);
  registerLeaseChanges(app, ctx);
  registerNodeRoutes(app, ctx);
  registerPilotRoutes(app, ctx);
  registerSlotRoutes(app, ctx);
  registerDashboard(app);
  registerWhatIfRoutes(app, ctx);
  registerTermsRoutes(app, ctx);
  registerAccountRoutes(app, ctx);
  registerAdminRoutes(app, ctx);
  registerImageRoutes(app, ctx);
  registerTrustRoutes(app, ctx);
  registerEventRoutes(app, ctx);
  if (opts.broker) registerContextRoutes(app, ctx, opts.broker);
  if (opts.secretBox) registerEc2CredentialRoutes(app, ctx, opts.secretBox);
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
