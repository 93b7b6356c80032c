// An expected "no" is a value, not an exception: the service answers it with a stable code and a
// message that says what to do, and the API maps the code to an HTTP status in one table
// (api/refusal-status.ts). Exceptions are left for bugs and for I/O that failed.

import type { ChangeAlternative } from '../core/change-plan.ts';
import type { Alternative, OccurrenceQuote } from '../core/negotiation.ts';
import type { LeaseRequest, RejectReason } from '../core/types.ts';
import type { Price } from './prices.ts';

/**
 * Every code an error answer of the service can carry. The scheduler's own reasons for refusing
 * a lease (core RejectReason) are among them, as are the two that name failures, not refusals
 * (internal, store-unavailable), so that clients meet one list.
 */
export const REFUSAL_CODES = [
  'invalid-request', 'unauthorized', 'forbidden', 'not-found',
  'already-exists', 'wrong-state', 'node-busy', 'node-unavailable',
  'insufficient-capacity', 'too-late', 'policy', 'insufficient-allocation', 'over-quota',
  'too-large', 'unsupported-media-type', 'headers-too-large', 'request-timeout',
  'invalid', 'exceeds-pool', 'unknown-image', 'below-image-minimum', 'unknown-node', 'checksum-mismatch', 'invalid-image-content', 'unsupported', 'idempotency-key-reused',
  'untrusted-image', 'invalid-statement',
  'internal', 'store-unavailable', 'no-leader', 'leader-lost',
] as const;

export type RefusalCode = (typeof REFUSAL_CODES)[number];

/** A "no" with what the caller can act on; earliestStart and alternatives come with lease refusals. */
export interface Refusal {
  ok: false;
  code: RefusalCode;
  message: string;
  /** The field at fault, for invalid input. */
  path?: string;
  earliestStart?: number | null;
  /** For a refused lease: requests; for a refused change: changes (core/change-plan.ts). */
  alternatives?: Alternative[] | ChangeAlternative[];
  occurrences?: OccurrenceQuote[];
  /** For a lease refused on a site of several back-ends: what each back-end answered. */
  options?: BackendQuote[];
  /** For a request the site's terms refuse: the rule (its path in the terms document), and the nearest request they take. */
  rule?: string;
  alternative?: LeaseRequest;
}

/** One back-end's answer to a request, as a quote shows it beside the others'. */
export interface BackendQuote {
  backend: string;
  ok: boolean;
  /** When it would start running and end there (a queued lease's: an estimate). */
  start: number | null;
  end: number | null;
  /** For the requested duration (one occurrence of a periodic lease). */
  price: Price | null;
  /** The one the site's policy takes, unless the client names another. */
  chosen: boolean;
  /** Why it cannot run there. */
  reason?: RefusalCode;
  message?: string;
}

export type Result<T> = { ok: true; value: T } | Refusal;

export const refuse = (code: RefusalCode, message: string, details: Omit<Refusal, 'ok' | 'code' | 'message'> = {}): Refusal => ({ ok: false, code, message, ...details });

export const done = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });

// The scheduler's reasons are codes as they are: a new RejectReason fails to compile until it is listed.
const _rejectReasonsAreCodes: RejectReason extends RefusalCode ? true : never = true;
void _rejectReasonsAreCodes;
