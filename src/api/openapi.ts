import type { FastifyInstance } from 'fastify';
import { COMPONENTS } from './schemas.ts';

interface RouteInfo {
  method: string | string[];
  url: string;
  role: string;
  schema?: { body?: unknown; querystring?: unknown; params?: unknown; response?: Record<string, unknown>; tags?: string[]; summary?: string };
}

const routes = new WeakMap<FastifyInstance, RouteInfo[]>();

/** Records every route with its schema as it is added, to describe them in the OpenAPI document. */
export function collectRoutes(app: FastifyInstance): void {
  const list: RouteInfo[] = [];
  routes.set(app, list);
  app.addHook('onRoute', (r) => {
    list.push({ method: r.method, url: r.url, role: (r.config as { role: string }).role, schema: r.schema as RouteInfo['schema'] });
  });
}

const toPath = (url: string): string => url.replace(/:([A-Za-z]+)/g, '{$1}');

/** OpenAPI 3.1, made from the same schemas that validate requests. */
export function openApiDocument(app: FastifyInstance, version: string): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes.get(app) ?? []) {
    for (const method of [r.method].flat()) {
      if (method === 'HEAD') continue;
      const s = r.schema ?? {};
      const params = [...(r.url.match(/:([A-Za-z]+)/g) ?? [])].map((p) => ({ name: p.slice(1), in: 'path', required: true, schema: { type: 'string' } }));
      const query = s.querystring ? Object.entries((s.querystring as { properties: Record<string, unknown> }).properties).map(([name, schema]) => ({ name, in: 'query', required: false, schema })) : [];
      (paths[toPath(r.url)] ??= {})[method.toLowerCase()] = {
        ...(s.summary ? { summary: s.summary } : {}),
        ...(s.tags ? { tags: s.tags } : {}),
        parameters: [...params, ...query],
        ...(s.body ? { requestBody: { required: true, content: { 'application/json': { schema: s.body } } } } : {}),
        responses: { ...Object.fromEntries(Object.entries(s.response ?? {}).map(([code, schema]) => [code, { description: code, content: { 'application/json': { schema } } }])), default: { description: 'an error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } } },
        // Who may call it (see route-roles.ts): decided on the matched route, whatever the URL's spelling.
        'x-vws-role': r.role,
        ...(r.role === 'public' ? {} : { security: [{ bearer: [] }] }),
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'vws: the virtual workspace service', version },
    paths,
    components: {
      schemas: COMPONENTS,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    },
  };
}
