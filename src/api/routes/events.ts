import type { FastifyInstance } from 'fastify';
import type { EventRow } from '../../store/store.ts';
import { type Caller, canSee } from '../auth.ts';
import type { ApiContext } from '../context.ts';

const HEARTBEAT_MS = 15_000;

function visible(caller: Caller, e: EventRow): boolean {
  if (caller.user.isAdmin) return true;
  return e.owner !== null && canSee(caller, { owner: e.owner, group: e.group });
}

const frame = (e: EventRow): string => `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify({ time: e.time, leaseId: e.leaseId, ...(e.data as object) })}\n\n`;

/** Server-Sent Events of what the caller may see, resumable with Last-Event-ID. */
export function registerEventRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/v1/events', { schema: { tags: ['events'], summary: 'Lease, workspace and node changes as Server-Sent Events' } }, async (req, reply) => {
    const header = req.headers['last-event-id'];
    const query = (req.query as { after?: string }).after;
    // ?after=now skips the history: only what happens from here on.
    let last = query === 'now' ? await ctx.store.lastEventId() : Number(header ?? query ?? 0) || 0;
    const caller = req.caller;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    // Sent now, not with the first event: a client on a quiet stream knows at once that it is subscribed.
    res.flushHeaders();
    // Events that arrive while the backlog is read wait here, so none is lost or sent twice.
    const waiting: EventRow[] = [];
    let replaying = true;
    const send = (e: EventRow): void => {
      if (e.id <= last) return;
      last = e.id;
      if (visible(caller, e)) res.write(frame(e));
    };
    const unsubscribe = ctx.service.onEvent((e) => (replaying ? waiting.push(e) : send(e)));
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    req.raw.on('close', () => {
      unsubscribe();
      clearInterval(heartbeat);
    });
    for (let page = await ctx.store.eventsAfter(last, 500); page.length > 0; page = await ctx.store.eventsAfter(last, 500)) page.forEach(send);
    replaying = false;
    waiting.sort((a, b) => a.id - b.id).forEach(send);
  });
}
