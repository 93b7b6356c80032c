// The two ways a client command fails after its command line was accepted: the API answered
// with an error, or the client could not get an answer at all. Both exit 1.

import type { RefusalCode } from '../../control/refusal.ts';

/** The API's error body: a stable code, a message to act on, and for refusals what would work. */
export interface ApiErrorBody {
  /** One of the server's refusal codes (GET /v1/openapi.json lists them), or the HTTP status when it sent none. */
  code: RefusalCode | (string & {});
  message: string;
  path?: string;
  earliestStart?: number | null;
  alternatives?: unknown[];
}

export class ApiFailure extends Error {
  /** Lines printed under the message, such as a refusal's alternatives as commands. */
  hint: string[] = [];

  constructor(readonly status: number, readonly body: ApiErrorBody) {
    super(body.message);
    this.name = 'ApiFailure';
  }
}

/** Anything else that stops a command: no connection, a broken config file, a missing file. */
export class ClientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClientError';
  }
}

/** "connection refused (ECONNREFUSED)" from what fetch throws, which hides the reason in `cause`. */
export function networkReason(e: unknown): string {
  let cause = (e as { cause?: unknown }).cause ?? e;
  if (cause instanceof AggregateError && cause.errors.length > 0) cause = cause.errors[0];
  const code = (cause as { code?: string }).code;
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused', ENOTFOUND: 'no such host', ECONNRESET: 'connection reset', ETIMEDOUT: 'timed out',
    EHOSTUNREACH: 'host unreachable', UND_ERR_SOCKET: 'the connection closed', UND_ERR_CONNECT_TIMEOUT: 'timed out connecting',
  };
  const message = (cause as Error).message ?? String(cause);
  return code ? `${known[code] ?? message} (${code})` : message;
}
