// The API over HTTP with the global fetch: a bearer token on every request, JSON both ways, and
// failures turned into ApiFailure (the server said no) or ClientError (no usable answer).

import { ApiFailure, type ApiErrorBody, ClientError, networkReason } from './errors.ts';

export interface Answer<T> {
  status: number;
  body: T;
}

/** How long a request keeps trying the servers while none leads (a takeover takes a few seconds). */
const LEADERLESS_WAIT_MS = 20_000;

export class Api {
  private readonly servers: string[];
  /** The server that answered last: tried first next time. */
  private at = 0;

  constructor(servers: string, private readonly token: string) {
    this.servers = servers.split(',');
  }

  get server(): string {
    return this.servers[this.at];
  }

  get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<Answer<T>> {
    const q = Object.entries(query).filter(([, v]) => v !== undefined).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
    return this.request<T>('GET', q.length ? `${path}?${q.join('&')}` : path);
  }

  /** A JSON body, or none: some POSTs take no body, and sending `{}` keeps their validation happy. */
  send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, json?: unknown, headers: Record<string, string> = {}): Promise<Answer<T>> {
    if (json === undefined) return this.request<T>(method, path, { headers });
    return this.request<T>(method, path, { body: JSON.stringify(json), headers: { 'content-type': 'application/json', ...headers } });
  }

  /** Raw bytes (a stream, so a large image is not read into memory first). */
  upload<T>(path: string, body: ReadableStream<Uint8Array>, bytes: number): Promise<Answer<T>> {
    return this.request<T>('PUT', path, { body, headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes) } });
  }

  /** The response of a long-lived GET (Server-Sent Events), once its status says it is usable. */
  async open(path: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
    const res = await this.fetch('GET', path, { headers, signal });
    if (!res.ok) throw await failure(res);
    return res;
  }

  private async request<T>(method: string, path: string, init: { body?: string | ReadableStream<Uint8Array>; headers?: Record<string, string> } = {}): Promise<Answer<T>> {
    const res = await this.fetch(method, path, init);
    if (!res.ok) throw await failure(res);
    return { status: res.status, body: (await json(res)) as T };
  }

  /**
   * Tries the servers in turn, from the one that answered last: past one that refuses the
   * connection (down), and past one that has no leader to forward to (503 no-leader), both of
   * which did nothing with the request. Any other failure is the answer: a request that may have
   * reached a server is never sent twice (a create is retried safely with its Idempotency-Key).
   */
  private async fetch(method: string, path: string, init: { body?: string | ReadableStream<Uint8Array>; headers?: Record<string, string>; signal?: AbortSignal }): Promise<Response> {
    const deadline = Date.now() + LEADERLESS_WAIT_MS;
    // A stream cannot be sent twice.
    const once = init.body instanceof ReadableStream;
    for (;;) {
      const server = this.servers[this.at];
      let res: Response;
      try {
        res = await fetch(`${server}${path}`, {
          method,
          headers: { authorization: `Bearer ${this.token}`, accept: 'application/json', ...init.headers },
          body: init.body,
          signal: init.signal,
          // Needed by fetch to send a stream as the body.
          ...(once ? { duplex: 'half' } : {}),
        } as RequestInit);
      } catch (e) {
        if ((e as Error).name === 'AbortError') throw e;
        const refused = (e as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
        // One server down is an answer at once: there is none other to go to.
        if (!refused || once || this.servers.length === 1 || !(await this.another(deadline))) throw new ClientError(`could not reach the vws server at ${server}: ${networkReason(e)}`);
        continue;
      }
      if (res.status !== 503 || once || (await leaderless(res)) === false || !(await this.another(deadline))) return res;
    }
  }

  /** Moves to the next server; after each round of them all, waits a moment. False once the time is up. */
  private async another(deadline: number): Promise<boolean> {
    this.at = (this.at + 1) % this.servers.length;
    if (this.at === 0 || this.servers.length === 1) {
      if (Date.now() + 1000 > deadline) return false;
      await new Promise((r) => setTimeout(r, 1000));
    }
    return true;
  }
}

/** Whether a 503 says no server leads (nothing was done), read from a copy so the caller can still read the answer. */
async function leaderless(res: Response): Promise<boolean> {
  const body = (await res.clone().json().catch(() => null)) as { code?: unknown } | null;
  return body?.code === 'no-leader';
}

async function json(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new ClientError(`${res.url} answered ${res.status} with ${res.headers.get('content-type') ?? 'no content type'}, not JSON: is this a vws server?`);
  }
}

async function failure(res: Response): Promise<Error> {
  const body = (await json(res).catch(() => null)) as Partial<ApiErrorBody> | null;
  if (!body || typeof body.message !== 'string') return new ClientError(`${res.url} answered ${res.status} ${res.statusText} without a vws error: is this a vws server?`);
  return new ApiFailure(res.status, { ...body, code: body.code ?? String(res.status), message: body.message });
}
