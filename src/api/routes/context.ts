// The context broker's protocol (docs/context-broker.md): guests exchange their seed's secret for
// a session, report what they provide, fetch their signed context and say whether they applied
// it; the lease's owner watches. Guest routes take no lease or member id: the session names the
// one member it speaks for, so a guest can only ever see its own cluster.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { ContextBroker, GuestSession } from '../../broker/broker.ts';
import { canSee } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { ContextStateView, DoneBody, ExchangeAnswer, ExchangeBody, ReportBody, Waiting } from '../context-schemas.ts';
import { notFound, valueOr } from '../errors.ts';
import { role } from '../route-roles.ts';
import { IdParam } from '../schemas.ts';

/** The context agent shipped with vws, served to guests as it is. */
export const AGENT_PATH = new URL('../../../guest/context-agent/vws-context-agent', import.meta.url);

declare module 'fastify' {
  interface FastifyRequest {
    guest: GuestSession;
  }
}

export function registerContextRoutes(app: FastifyInstance, ctx: ApiContext, broker: ContextBroker): void {
  const tags = ['context'];
  app.decorateRequest('guest', null as unknown as GuestSession);

  app.post('/v1/context/exchange', { ...role('public'), schema: { body: ExchangeBody, response: { 200: ExchangeAnswer }, tags, summary: 'A member\'s one-time secret for a session token (guests)' } }, async (req) => {
    const b = req.body as { lease: string; member: string; secret: string };
    return valueOr(await broker.exchange(b.lease, b.member, b.secret));
  });

  app.post('/v1/context/report', { ...role('guest'), schema: { body: ReportBody, tags, summary: 'What the member provides: ip, hostname, ssh host key and its role\'s entries (guests)' } }, async (req) => {
    return valueOr(await broker.report(req.guest, req.body as { ip: string; hostname: string; hostKey: string; entries: Record<string, string> }));
  });

  app.get('/v1/context', { ...role('guest'), schema: { response: { 200: { type: 'string', description: 'the context (vws.context/v1), JSON; x-vws-signature: its Ed25519 signature, base64' }, 202: Waiting }, tags, summary: 'The member\'s context, signed (200), or what it still waits for (202) (guests)' } }, async (req, reply) => {
    const answer = valueOr(await broker.context(req.guest));
    if (!answer.ready) return reply.code(202).send({ status: 'pending', waitsFor: answer.waitsFor });
    // The exact bytes signed: the agent checks the signature over the body as received.
    return reply.code(200 as 202).header('x-vws-signature', answer.signature).header('cache-control', 'no-store').type('application/json').send(answer.payload);
  });

  app.post('/v1/context/done', { ...role('guest'), schema: { body: DoneBody, tags, summary: 'The member applied its context, or could not, with why (guests)' } }, async (req) => {
    const b = req.body as { ok: boolean; reason?: string };
    return valueOr(await broker.done(req.guest, b.ok, b.reason));
  });

  app.get('/v1/context/agent', { ...role('public'), schema: { tags, summary: 'The context agent (Python 3), for guests to fetch' } }, async (_req, reply) => {
    return reply.type('text/x-python; charset=utf-8').send(agentText());
  });

  app.get('/v1/leases/:id/context', { ...role('user'), schema: { params: IdParam, response: { 200: ContextStateView }, tags, summary: 'A cluster lease\'s context: pending, complete or failed, and each role\'s progress' } }, async (req) => {
    const { id } = req.params as { id: string };
    const lease = await ctx.store.getLease(id);
    if (!lease || !canSee(req.caller, lease)) throw notFound('lease', id);
    const view = broker.view(id);
    if (!view) throw notFound('context of lease', id);
    return view;
  });
}

/** The sha256 (hex) of the agent as served: what a seed tells the guest to check before it runs it. */
export function agentSha256(): string {
  return createHash('sha256').update(agentText(), 'utf8').digest('hex');
}

let agent: string | null = null;
const agentText = (): string => (agent ??= readFileSync(AGENT_PATH, 'utf8'));
