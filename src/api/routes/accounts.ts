import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { accountOf, periodNamed, periodOf } from '../../core/accounts.ts';
import { invalidRequest, notFound } from '../errors.ts';
import type { ApiContext } from '../context.ts';
import type { Caller } from '../auth.ts';
import { role } from '../route-roles.ts';

const strict = { additionalProperties: false };
const GroupParam = Type.Object({ group: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$' }) }, strict);
const PeriodQuery = Type.Object({ period: Type.Optional(Type.String({ pattern: '^[0-9]{4}(-[0-9]{2}|-Q[1-4])?$', description: 'a month (2026-12), a quarter (2026-Q4) or a year (2026)' })) }, strict);

const mayRead = (caller: Caller, group: string): boolean => caller.user.isAdmin || caller.groups.includes(group);

/**
 * Accounts (one per group, with an allocation per period, set in the site's terms) and their
 * statements: charges per user and per-lease usage records for a period, metered from the
 * schedule. Members of a group see its account; administrators see all.
 */
export function registerAccountRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/v1/accounts', { ...role('user'), schema: { tags: ['accounts'], summary: "The accounts the caller may see: each group's allocation for its current period, and what its leases have spent or are promised" } }, async (req) => {
    const terms = ctx.service.terms.terms;
    const now = ctx.now();
    const accounts = Object.entries(terms.accounts).filter(([g]) => mayRead(req.caller, g)).map(([group, a]) => {
      const s = ctx.service.statement(group, periodOf(now, a.period));
      return { group, period: s.period.name, periodKind: a.period, allocation: a.allocation, charged: s.charged, committed: s.committed, left: a.allocation - (s.committed ?? s.charged) };
    });
    return { unit: terms.unit.name, accounts };
  });

  app.get('/v1/accounts/:group/statement', { ...role('user'), schema: { params: GroupParam, querystring: PeriodQuery, tags: ['accounts'], summary: "A group's statement for a period (default: its account's current period, else this month): allocation, charges per user, per-lease usage records" } }, async (req) => {
    const { group } = req.params as { group: string };
    const { period: name } = req.query as { period?: string };
    // A group the caller is not in is answered as if it did not exist.
    if (!mayRead(req.caller, group) || !(await ctx.store.getGroup(group))) throw notFound('group', group);
    const account = accountOf(ctx.service.terms.terms, group);
    const period = name === undefined ? periodOf(ctx.now(), account?.period ?? 'month') : periodNamed(name);
    if (!period) throw invalidRequest('querystring.period', `no period '${name}': name a month (2026-12), a quarter (2026-Q4) or a year (2026)`);
    return ctx.service.statement(group, period);
  });
}
