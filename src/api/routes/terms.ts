import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { TERMS_FORMAT, readTerms, termsDocument } from '../../core/terms-document.ts';
import { kindsOffered } from '../../core/terms.ts';
import type { TermsInForce } from '../../control/site-terms.ts';
import { invalidRequest, valueOr } from '../errors.ts';
import type { ApiContext } from '../context.ts';
import { role } from '../route-roles.ts';

/**
 * The site's terms (core/terms.ts), published to every user with the kinds it may ask for (in the
 * spirit of WS-Agreement's templates), and changed by administrators. A change is logged and
 * applies from its instant on; a document that does not read leaves the terms in force.
 */
export function registerTermsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const out = (t: TermsInForce, yours?: string[]) => ({ version: t.version, since: t.since, ...(yours ? { yours } : {}), terms: termsDocument(t.terms) });

  app.get('/v1/terms', { ...role('user'), schema: { tags: ['terms'], summary: "The site's terms in force: the lease kinds it offers and to whom, their limits, prices and scheduling policy; `yours`: the kinds the caller may ask for" } }, async (req) => {
    const t = ctx.service.terms;
    return out(t, kindsOffered(t.terms, { group: null, memberOf: req.caller.groups, admin: req.caller.user.isAdmin }));
  });

  // The document is read by readTerms, which names the path of what is wrong; the schema only says it is a terms document.
  const body = Type.Object({ format: Type.Literal(TERMS_FORMAT) }, { additionalProperties: true });
  app.put('/v1/terms', { ...role('admin'), schema: { body, tags: ['terms'], summary: 'Put new terms in force from now on (docs/terms.md); refused, the terms in force stay' } }, async (req) => {
    const read = readTerms(req.body);
    if (!read.ok) throw invalidRequest(`body${read.path.slice('terms'.length)}`, `${read.message}; the terms in force stay`);
    return out(valueOr(await ctx.service.setTerms(read.terms, req.caller.user.id)));
  });
}
