// The API's Fastify application without its routes: validation, route roles, bearer tokens decided
// on the matched route, and every error in one format. The leader's server (server.ts) and a
// follower's reads (follower-reads.ts) are both built on it, so that the two answer alike.

import type { Server } from 'node:http';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerFactory } from 'fastify';
import { authenticate, type Caller } from './auth.ts';
import { answerClientError, answerExpectation } from './client-errors.ts';
import { ApiError, forbidden, invalidRequest } from './errors.ts';
import type { RefusalCode } from '../control/refusal.ts';
import type { ServerOptions } from './context.ts';
import { StoreUnavailable } from '../store/store-failure.ts';
import { collectRoutes } from './openapi.ts';
import { requireRoles, roleOf } from './route-roles.ts';
import { installValidation } from './validation.ts';

/** What the app needs of the server's options (context.ts), and the server to answer on when it is not Fastify's own (a follower answers some requests itself). */
export type ApiAppOptions = Pick<ServerOptions, 'store' | 'now' | 'https' | 'logger' | 'broker'> & { serverFactory?: FastifyServerFactory };

/**
 * The longest path parameter the router takes, as sent: the longest name a schema takes (IdParam's
 * 256 characters) percent-encoded (3 characters each). Fastify's default, 100, turned away image
 * names the API registers (up to 128 characters).
 */
const MAX_PARAM_LENGTH = 3 * 256;

/** The largest body but image content (streamed by its own route, routes/images.ts). */
export const JSON_BODY_LIMIT = 1024 * 1024;
export const TOO_LARGE = 'the body is larger than 1 MiB: a JSON request is small (image content goes to PUT /v1/images/{name}/content)';

export function apiApp(opts: ApiAppOptions): FastifyInstance {
  const app = Fastify({
    // Failures only, on stderr: an internal error's answer points to the log for its cause.
    logger: opts.logger ? { level: 'error', stream: process.stderr } : false,
    // Node answers a request without Host with a bare 400 of its own: the API checks it instead (onRequest below).
    ...(opts.serverFactory ? { serverFactory: opts.serverFactory } : opts.https ? { https: { ...opts.https, requireHostHeader: false } } : { http: { requireHostHeader: false } }),
    // JSON bodies are small; image content is streamed by its own route (routes/images.ts).
    bodyLimit: JSON_BODY_LIMIT,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // The router's own refusals (a path that is not valid percent-encoding, a parameter too long) in the API's format.
    frameworkErrors: (err, _req, reply) => void sendError(reply, err),
    // And Node's parser's (headers too large, not HTTP, too slow), before any route.
    clientErrorHandler: answerClientError,
    // Fastify's own answer while closing is not in the API's format: the hook below answers instead.
    return503OnClosing: false,
  }) as unknown as FastifyInstance;
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  (app.server as Server).on('checkExpectation', answerExpectation);
  const { store } = opts;
  // Unknown fields are errors, not silently dropped; bodies are not coerced (validation.ts).
  installValidation(app);
  requireRoles(app);
  collectRoutes(app);
  app.decorateRequest('caller', null as unknown as Caller);
  app.setErrorHandler((err: FastifyError, _req, reply) => sendError(reply, err));
  app.setNotFoundHandler((req, reply) => sendError(reply, new ApiError('not-found', `no route ${req.method} ${req.url}; see /v1/openapi.json`)));
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (closing) {
      // A request on a kept-alive connection while the server stops or steps down: nothing of it is done.
      reply.header('retry-after', '2').header('connection', 'close');
      return sendError(reply, new ApiError('no-leader', 'this server is stopping (shutting down, or handing the leadership over): nothing was done; retry shortly, at another server of the site or at this one once it is back'));
    }
    if (req.raw.httpVersion === '1.1' && req.headers.host === undefined) {
      return sendError(reply, invalidRequest('header host', 'an HTTP/1.1 request needs a Host header (any HTTP client sends one)'));
    }
    // JSON is read as UTF-8 whatever charset a body claims: one that claims another (utf-16,
    // latin1) would be read as what it does not say it is, and is refused instead.
    const charset = /^application\/json\s*;.*\bcharset\s*=\s*"?([^";\s]*)/i.exec(req.headers['content-type'] ?? '')?.[1];
    if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
      return sendError(reply, new ApiError('unsupported-media-type', `the body says charset=${charset.slice(0, 40)}: JSON is read as UTF-8; send it as application/json (charset=utf-8, or none)`));
    }
    const needed = roleOf(req);
    if (needed === 'public') return;
    if (needed === 'guest') {
      const session = opts.broker?.sessionOf(req.headers.authorization) ?? null;
      if (!session) return sendError(reply.header('www-authenticate', 'Bearer'), new ApiError('unauthorized', 'send the session token that POST /v1/context/exchange gave this member as "Authorization: Bearer <session>"'));
      req.guest = session;
      return;
    }
    const caller = await authenticate(store, req.headers.authorization, opts.now());
    if (!caller) {
      return sendError(reply.header('www-authenticate', 'Bearer'), new ApiError('unauthorized', 'send a valid token as "Authorization: Bearer <token>" (vws login stores one)'));
    }
    req.caller = caller;
    if (needed === 'admin' && !caller.user.isAdmin) return sendError(reply, forbidden(`${req.method} ${req.routeOptions.url} is for administrators`));
  });
  return app;
}

/**
 * Every error answer, in one format: refusals with their status from the one table, Fastify's own
 * 4xx (bad JSON, a body too large, another content type) under the table's codes and in our words,
 * a failed store as 503, anything else as a bug (500). Internals (a database's error text, a
 * stack) are logged with the request's id and never sent; echoed input is cut short.
 */
function sendError(reply: FastifyReply, err: FastifyError | ApiError | Error): FastifyReply {
  if (err instanceof ApiError) return reply.code(err.status).send(shortened(err.body));
  const fe = err as FastifyError;
  if (fe.validation && fe.validation.length > 0) {
    const v = fe.validation[0];
    const extra = (v.params as { additionalProperty?: string }).additionalProperty;
    const where = `${fe.validationContext ?? 'body'}${v.instancePath.replaceAll('/', '.')}${extra ? `.${extra}` : ''}`;
    const message = extra ? `unknown field '${extra}': remove it (see /v1/openapi.json for the fields)` : `${v.message ?? 'is invalid'}`;
    return sendError(reply, new ApiError('invalid-request', `${where}: ${message}`, { path: where }));
  }
  const logged = `the server's log has the cause under request ${reply.request.id}`;
  if (err instanceof StoreUnavailable) {
    reply.log.error(err);
    const what = err.stopped ? 'the service stopped after a store failure and takes nothing until an administrator restarts it (it replays its log)' : 'the store is unavailable';
    return sendError(reply, new ApiError('store-unavailable', `${what}; the request changed nothing (${logged})`));
  }
  const own = fe.code ? FRAMEWORK_ERRORS[fe.code] : undefined;
  if (own) return sendError(reply, new ApiError(own[0], own[1]));
  if (fe.statusCode && fe.statusCode < 500) {
    const code = fe.statusCode === 413 ? 'too-large' : fe.statusCode === 415 ? 'unsupported-media-type' : 'invalid-request';
    return sendError(reply, new ApiError(code, err.message));
  }
  reply.log.error(err);
  return sendError(reply, new ApiError('internal', `the server failed (${logged})`));
}

/** Fastify's own refusals, said as the API says everything else. */
const FRAMEWORK_ERRORS: Record<string, [RefusalCode, string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: ['invalid-request', 'the body is not valid JSON: check its quotes, commas and brackets'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['invalid-request', 'the body is empty but says it is JSON: send a JSON object, or no Content-Type'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['unsupported-media-type', 'send the body as application/json (image content as application/octet-stream)'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['invalid-request', 'the Content-Length does not match the body sent'],
  FST_ERR_BAD_URL: ['invalid-request', 'the path is not valid percent-encoding (a % must be followed by two hex digits of UTF-8): encode names with encodeURIComponent'],
  FST_ERR_MAX_PARAM_LENGTH: ['invalid-request', `a path parameter is longer than ${MAX_PARAM_LENGTH} characters: no id or name is that long`],
  FST_ERR_CTP_BODY_TOO_LARGE: ['too-large', TOO_LARGE],
};

/** The longest message sent back: input echoed in one (a name, a path) is cut there. */
const LONGEST_MESSAGE = 1000;

function shortened(body: Record<string, unknown>): Record<string, unknown> {
  const m = body.message;
  if (typeof m !== 'string' || m.length <= LONGEST_MESSAGE) return body;
  return { ...body, message: `${m.slice(0, LONGEST_MESSAGE)}… (${m.length - LONGEST_MESSAGE} more characters cut)` };
}
