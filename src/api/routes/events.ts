import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { EventRow } from '../../store/store.ts';
import { authenticate, type Caller, canSee } from '../auth.ts';
import { invalidRequest } from '../errors.ts';
import type { ApiContext } from '../context.ts';
import { role } from '../route-roles.ts';

const HEARTBEAT_MS = 15_000;

function visible(caller: Caller, e: EventRow): boolean {
  if (caller.user.isAdmin) return true;
  return e.owner !== null && canSee(caller, { owner: e.owner, group: e.group });
}

/** Where to resume: after the event id in Last-Event-ID or ?after (an integer, or 'now'), else from the start. */
function resumePoint(header: string | string[] | undefined, query: string | undefined): number | 'now' {
  if (query === 'now') return 'now';
  const [where, given] = header !== undefined ? ['header last-event-id', [header].flat()[0]] : ['querystring.after', query];
  if (given === undefined) return 0;
  if (!/^\d{1,15}$/.test(given)) throw invalidRequest(where, `must be an event id (a whole number)${where === 'querystring.after' ? " or 'now'" : ''}, got '${given}'`);
  return Number(given);
}

const frame = (e: EventRow): string => `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify({ time: e.time, leaseId: e.leaseId, ...(e.data as object) })}\n\n`;

/** Server-Sent Events of what the caller may see, resumable with Last-Event-ID. */
export function registerEventRoutes(app: FastifyInstance, ctx: ApiContext): void {
  // A stream has no end of its own: a server that stops ends them, or its close would wait for
  // every client (a dashboard left open, a `vws lease watch`) to go away first.
  const open = new Set<ServerResponse>();
  app.addHook('preClose', (done) => {
    for (const r of open) r.end();
    done();
  });
  app.get('/v1/events', { ...role('user'), schema: { tags: ['events'], summary: 'Lease, workspace and node changes as Server-Sent Events' } }, async (req, reply) => {
    const from = resumePoint(req.headers['last-event-id'], (req.query as { after?: string }).after);
    // ?after=now skips the history: only what happens from here on.
    let last = from === 'now' ? await ctx.store.lastEventId() : from;
    let caller = req.caller;
    // Events that arrive while the backlog is read wait here, so none is lost or sent twice.
    const waiting: EventRow[] = [];
    let replaying = true;
    let res: typeof reply.raw | null = null;
    const send = (e: EventRow): void => {
      if (e.id <= last) return;
      last = e.id;
      if (visible(caller, e)) res?.write(frame(e));
    };
    // While the caller is checked again after a change of rights, events wait, so that none goes out under the old rights.
    let held: EventRow[] | null = null;
    const unsubscribe = ctx.service.onEvent((e) => (replaying ? waiting.push(e) : held ? held.push(e) : send(e)));
    // The first page is read before the stream opens, so that a store that fails answers with a status.
    let page: EventRow[];
    try {
      page = await ctx.store.eventsAfter(last, 500);
    } catch (e) {
      unsubscribe();
      throw e;
    }
    reply.hijack();
    res = reply.raw;
    open.add(res);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    // Sent now, not with the first event: a client on a quiet stream knows at once that it is subscribed.
    res.flushHeaders();
    // The stream lasts as long as its rights: the caller is checked again whenever they change
    // anywhere, and the token's expiry at each heartbeat; a stream whose token no longer holds ends.
    const authorization = req.headers.authorization;
    const recheck = async (): Promise<void> => {
      const again = await authenticate(ctx.store, authorization, ctx.now()).catch(() => null);
      const waitingNow = held ?? [];
      held = null;
      if (!again) return void res?.end();
      caller = again;
      waitingNow.forEach(send);
    };
    const onRightsChanged = (): void => {
      held ??= [];
      void recheck();
    };
    ctx.rightsChanged.on('changed', onRightsChanged);
    const heartbeat = setInterval(() => {
      if (caller.tokenExpiresAt !== null && caller.tokenExpiresAt <= ctx.now()) return void res?.end();
      res?.write(': keep-alive\n\n');
    }, HEARTBEAT_MS);
    req.raw.on('close', () => {
      open.delete(reply.raw);
      unsubscribe();
      clearInterval(heartbeat);
      ctx.rightsChanged.off('changed', onRightsChanged);
    });
    try {
      for (; page.length > 0; page = await ctx.store.eventsAfter(last, 500)) page.forEach(send);
    } catch (e) {
      // The stream is open: the client sees it end, and resumes from the last id it got.
      req.log.error(e);
      res.end();
      return;
    }
    replaying = false;
    waiting.sort((a, b) => a.id - b.id).forEach(send);
  });
}
