// The dashboard at /ui: a static bundle (web/, built by scripts/build-web.mjs into web/dist) that
// signs in with a token and reads the same API as every other client. Its files hold no data, so
// they are public; the routes serve a fixed list of files, never a path taken from the URL.

import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { role } from '../route-roles.ts';

/** web/dist, from src/api/routes and from dist/api/routes alike (dist mirrors src at the same depth). */
const BUNDLE = new URL('../../../web/dist/', import.meta.url);

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

// Only this origin's own scripts and styles; the page may be framed by no one.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export function registerDashboard(app: FastifyInstance): void {
  const cache = new Map<string, Buffer>();
  const send = (reply: FastifyReply, name: string) => {
    let body = cache.get(name);
    if (!body) {
      try {
        body = readFileSync(new URL(name, BUNDLE));
      } catch {
        return reply.code(503).type('text/plain; charset=utf-8').send('The dashboard is not built: run `npm run build` (npm ci does it), then reload.\n');
      }
      cache.set(name, body);
    }
    return reply
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', name === 'index.html' ? 'no-cache' : 'max-age=300')
      .type(FILES[name])
      .send(body);
  };
  const hidden = { tags: ['dashboard'], summary: 'The web dashboard (static files; it signs in with a token)' };
  app.get('/ui', { ...role('public'), schema: hidden }, async (_req, reply) => send(reply, 'index.html'));
  app.get('/ui/', { ...role('public'), schema: hidden }, async (_req, reply) => send(reply, 'index.html'));
  for (const name of Object.keys(FILES)) app.get(`/ui/${name}`, { ...role('public'), schema: hidden }, async (_req, reply) => send(reply, name));
}
