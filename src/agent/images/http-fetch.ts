// Downloads a blob from the service's image store for the image cache.

/** The store answered with an error status; `code` and the message come from its JSON body when it has one. */
export class BlobFetchError extends Error {
  constructor(readonly url: string, readonly status: number, readonly code: string | undefined, detail: string) {
    super(`GET ${url} failed with HTTP ${status}${code ? ` (${code})` : ''}: ${detail}`);
    this.name = 'BlobFetchError';
  }
}

/**
 * The body of `url` as a stream of bytes, asked for with the agent's bearer token. Resolves once the
 * response headers are in; the body arrives as the caller reads it.
 */
export async function fetchBlob(url: string, token: string): Promise<AsyncIterable<Uint8Array>> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  } catch (e) {
    // Node's fetch hides the reason (refused, DNS, TLS) in `cause`.
    const reason = e instanceof Error && e.cause instanceof Error ? e.cause.message : String(e);
    throw new Error(`GET ${url} failed before any response: ${reason}; check that the image store is reachable from this node`, { cause: e });
  }
  if (!res.ok) throw new BlobFetchError(url, res.status, ...(await errorDetail(res)));
  return bodyChunks(res);
}

async function errorDetail(res: Response): Promise<[string | undefined, string]> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown };
    if (typeof body.message === 'string') return [typeof body.code === 'string' ? body.code : undefined, body.message];
  } catch {
    // Not JSON (a proxy's error page, say): show what there is.
  }
  return [undefined, text.trim().slice(0, 500) || res.statusText || 'no message'];
}

async function* bodyChunks(res: Response): AsyncIterable<Uint8Array> {
  if (!res.body) return;
  const reader = res.body.getReader();
  let done = false;
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) {
        done = true;
        return;
      }
      yield next.value;
    }
  } finally {
    // A reader that stops early (a failed disk write, say) must not leave the connection open.
    if (!done) await reader.cancel().catch(() => {});
  }
}
