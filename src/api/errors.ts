// Errors the API answers with: a stable code from control/refusal.ts, a message a person can act
// on, and details where they exist. The status always comes from the one table, refusal-status.ts.

import type { Refusal, RefusalCode } from '../control/refusal.ts';
import { REFUSAL_STATUS } from './refusal-status.ts';

/** A refusal on its way out of a route: thrown, so that helpers deep in a handler can answer. */
export class ApiError extends Error {
  constructor(readonly code: RefusalCode, message: string, readonly extra: Record<string, unknown> = {}) {
    super(message);
  }

  get status(): number {
    return REFUSAL_STATUS[this.code];
  }

  get body(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.extra };
  }
}

/** A Refusal of the service as the API answers it; `details` replaces fields that need API terms. */
export const refused = (r: Refusal, details: Record<string, unknown> = {}): ApiError => {
  const { ok: _, code, message, ...rest } = r;
  return new ApiError(code, message, { ...rest, ...details });
};

/** The value of a service result, or its refusal thrown as the API's answer. */
export function valueOr<T>(result: { ok: true; value: T } | Refusal): T {
  if (!result.ok) throw refused(result);
  return result.value;
}

export const notFound = (what: string, id: string): ApiError => new ApiError('not-found', `no ${what} '${id}' (or not yours to see)`);
export const forbidden = (message: string): ApiError => new ApiError('forbidden', message);
export const invalidRequest = (path: string, message: string): ApiError => new ApiError('invalid-request', `${path}: ${message}`, { path });
