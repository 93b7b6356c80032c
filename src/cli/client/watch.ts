// vws lease watch [ID]: follows GET /v1/events. The server keeps every event with an id and
// replays those after Last-Event-ID, so a dropped connection is resumed without losing or
// repeating a line; with an ID, the replay from the start is that lease's history.

import { integerOption } from './args.ts';
import { type Command, connect, enc } from './command.ts';
import { ApiFailure, ClientError } from './errors.ts';
import type { Api } from './http.ts';
import { FINAL_STATUSES } from './lease-text.ts';
import { timeText } from './parse-time.ts';
import { SseParser } from './sse.ts';

/** The server sends a comment every 15 s; three missed ones mean a connection that died quietly. */
const IDLE_MS = 45_000;
/** Consecutive failed reconnects before giving up (about three minutes with the back-off). */
const MAX_RETRIES = 20;

interface EventData {
  time?: number;
  leaseId?: string | null;
  [field: string]: unknown;
}

/** Returns true to stop following. */
type Handler = (id: number, type: string, data: EventData) => boolean;

interface Followed {
  last: number;
  done: boolean;
  connected: boolean;
  why: string;
}

export function eventLine(id: number, type: string, data: EventData): string {
  const { time, leaseId, ...rest } = data;
  let what: string;
  if (type === 'lease.status') {
    const reason = rest.reason as { message?: string } | null | undefined;
    const from = typeof rest.from === 'string' ? rest.from : 'new';
    what = `${leaseId} ${from} -> ${rest.to}${reason?.message ? ` (${reason.message})` : ''}`;
  } else if (type.startsWith('node.')) {
    what = String(rest.id);
  } else {
    what = `${leaseId ?? ''} ${JSON.stringify(rest)}`.trim();
  }
  return `#${id}  ${typeof time === 'number' ? timeText(time) : '-'}  ${type}  ${what}`;
}

/** One connection: events after `after` until the handler stops, the stream ends, or it fails. */
async function follow(api: Api, after: number, handle: Handler): Promise<Followed> {
  const ctl = new AbortController();
  let idle: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(idle);
    idle = setTimeout(() => ctl.abort(), IDLE_MS);
  };
  let last = after;
  let connected = false;
  try {
    arm();
    const res = await api.open('/v1/events', { accept: 'text/event-stream', ...(after > 0 ? { 'last-event-id': String(after) } : {}) }, ctl.signal);
    connected = true;
    const parser = new SseParser();
    const decoder = new TextDecoder();
    for await (const chunk of res.body ?? []) {
      arm();
      for (const e of parser.feed(decoder.decode(chunk, { stream: true }))) {
        const id = Number(e.id);
        if (Number.isInteger(id)) last = id;
        let data: EventData;
        try {
          data = JSON.parse(e.data) as EventData;
        } catch {
          data = { raw: e.data };
        }
        if (handle(id, e.type, data)) return { last, done: true, connected, why: '' };
      }
    }
    return { last, done: false, connected, why: 'the server closed the stream' };
  } catch (e) {
    if (e instanceof ApiFailure) throw e;
    const why = ctl.signal.aborted ? `no data for ${IDLE_MS / 1000} s` : e instanceof ClientError ? e.message : `the stream broke: ${(e as Error).message}`;
    return { last, done: false, connected, why };
  } finally {
    clearTimeout(idle);
    ctl.abort();
  }
}

const watch: Command = async (args) => {
  const leaseId = args.positionals[0];
  const afterText = args.string('after');
  let last = afterText === undefined ? 0 : integerOption('after', afterText, 0);
  const api = connect(args);
  // A lease that does not exist, or is not ours to see, would otherwise wait forever in silence.
  if (leaseId !== undefined) await api.get(`/v1/leases/${enc(leaseId)}`);
  const handle: Handler = (id, type, data) => {
    if (leaseId !== undefined && data.leaseId !== leaseId) return false;
    process.stdout.write(`${args.json ? JSON.stringify({ id, type, data }) : eventLine(id, type, data)}\n`);
    return leaseId !== undefined && type === 'lease.status' && FINAL_STATUSES.includes(String(data.to));
  };
  let everConnected = false;
  for (let failures = 0; ;) {
    const r = await follow(api, last, handle);
    last = r.last;
    if (r.done) return 0;
    if (r.connected) {
      everConnected = true;
      failures = 0;
      process.stderr.write(`vws: event stream lost (${r.why}); resuming after event ${last}\n`);
    } else if (!everConnected) {
      throw new ClientError(r.why);
    } else if (++failures >= MAX_RETRIES) {
      throw new ClientError(`gave up following events after ${failures} failed reconnects: ${r.why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 250 * 2 ** failures)));
  }
};

export const WATCH_COMMAND: Command = watch;
