// The API as the dashboard calls it: the same routes and token as every other client, errors in
// the API's own format ({code, message}) so the page can show what the server said to do.

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export type Api = <T>(method: string, path: string, body?: unknown) => Promise<T>;

export function apiWith(token: string, onUnauthorized: () => void): Api {
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      throw new ApiError(0, 'unreachable', 'The service did not answer: is it running? Try again in a moment.');
    }
    const text = await res.text();
    const json = text ? (JSON.parse(text) as unknown) : null;
    if (!res.ok) {
      if (res.status === 401) onUnauthorized();
      const err = json as { code?: string; message?: string } | null;
      throw new ApiError(res.status, err?.code ?? 'error', err?.message ?? `${method} ${path} answered ${res.status}`);
    }
    return json as T;
  };
}

/** Checks a token by asking who it belongs to. */
export async function whoAmI(token: string): Promise<Me> {
  return apiWith(token, () => {})<Me>('GET', '/v1/whoami');
}

export interface Me {
  id: string;
  name: string;
  isAdmin: boolean;
  groups: string[];
}
