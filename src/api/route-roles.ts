import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * Who may call a route, declared in the route's own config (`{ config: { role } }`) and checked on
 * the route the router matched, never on the URL's text: the router decodes `%6E` to `n` and
 * folds `//`, so a check on req.url can be walked around. 'public': anyone; 'user': any valid
 * token; 'admin': an administrator's token. Routes whose answer depends on which user asks (their
 * own tokens, their own leases) are 'user' routes that decide the rest themselves. 'guest': a
 * cluster member's context session (src/broker), which no user token opens, nor it a user route.
 */
export type RouteRole = 'public' | 'user' | 'admin' | 'guest';

const ROLES: readonly RouteRole[] = ['public', 'user', 'admin', 'guest'];

/** Refuses at start-up any route that does not say who may call it: no route is open by omission. */
export function requireRoles(app: FastifyInstance): void {
  app.addHook('onRoute', (r) => {
    const role = (r.config as { role?: unknown } | undefined)?.role;
    if (!ROLES.includes(role as RouteRole)) {
      throw new Error(`internal: route ${[r.method].flat().join(',')} ${r.url} declares no role; give it config: { role: 'public' | 'user' | 'admin' | 'guest' }`);
    }
  });
}

/** The role of the route that matched the request; 'user' when none did (a 404 is for callers with a token). */
export function roleOf(req: FastifyRequest): RouteRole {
  return (req.routeOptions.config as { role?: RouteRole } | undefined)?.role ?? 'user';
}

/** Route options for a role, to spread into a route's options. */
export const role = (r: RouteRole): { config: { role: RouteRole } } => ({ config: { role: r } });
