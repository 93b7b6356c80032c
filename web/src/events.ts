// The service's event stream (GET /v1/events, Server-Sent Events) read through fetch, so that the
// token goes in a header rather than in a URL that logs and histories keep. It reconnects on its
// own, resuming after the last event it saw (Last-Event-ID), as EventSource would.

export interface ServiceEvent {
  id: number;
  type: string;
  data: { leaseId?: string | null; time?: number } & Record<string, unknown>;
}

export type StreamState = 'connecting' | 'live' | 'retrying';

export function openEvents(token: string, onEvent: (e: ServiceEvent) => void, onState: (s: StreamState) => void): () => void {
  let closed = false;
  let lastId: string | null = null;
  let abort = new AbortController();
  const run = async (): Promise<void> => {
    while (!closed) {
      onState(lastId === null ? 'connecting' : 'retrying');
      try {
        const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'text/event-stream' };
        if (lastId !== null) headers['last-event-id'] = lastId;
        // The history before the page opened is in the lists it reads; the stream brings what follows.
        const url = lastId === null ? '/v1/events?after=now' : '/v1/events';
        const res = await fetch(url, { headers, signal: abort.signal });
        if (!res.ok || !res.body) throw new Error(`events: ${res.status}`);
        onState('live');
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const e = parseFrame(frame);
            if (e) {
              lastId = String(e.id);
              onEvent(e);
            }
          }
        }
      } catch {
        if (closed) return;
      }
      if (!closed) await new Promise((r) => setTimeout(r, 1000));
      abort = new AbortController();
    }
  };
  void run();
  return () => {
    closed = true;
    abort.abort();
  };
}

function parseFrame(frame: string): ServiceEvent | null {
  let id: number | null = null;
  let type = 'message';
  const data: string[] = [];
  for (const line of frame.split('\n')) {
    if (line.startsWith('id:')) id = Number(line.slice(3).trim());
    else if (line.startsWith('event:')) type = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
  }
  if (id === null || data.length === 0) return null;
  try {
    return { id, type, data: JSON.parse(data.join('\n')) as ServiceEvent['data'] };
  } catch {
    return null;
  }
}
