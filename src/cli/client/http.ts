// The API over HTTP with the global fetch: a bearer token on every request, JSON both ways, and
// failures turned into ApiFailure (the server said no) or ClientError (no usable answer).

import { ApiFailure, type ApiErrorBody, ClientError, networkReason } from './errors.ts';

export interface Answer<T> {
  status: number;
  body: T;
}

export class Api {
  constructor(readonly server: string, private readonly token: string) {}

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

  private async fetch(method: string, path: string, init: { body?: string | ReadableStream<Uint8Array>; headers?: Record<string, string>; signal?: AbortSignal }): Promise<Response> {
    try {
      return await fetch(`${this.server}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, accept: 'application/json', ...init.headers },
        body: init.body,
        signal: init.signal,
        // Needed by fetch to send a stream as the body.
        ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}),
      } as RequestInit);
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      throw new ClientError(`could not reach the vws server at ${this.server}: ${networkReason(e)}`);
    }
  }
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
