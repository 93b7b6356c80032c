import type { LeaseRequest } from '../core/types.ts';

/**
 * Whether two requests ask for the same lease, their ids and arrival times aside: a retry under an
 * Idempotency-Key is made afresh, with a new id, at a later instant.
 */
export function sameRequest(a: LeaseRequest, b: LeaseRequest): boolean {
  return canonical(a) === canonical(b);
}

function canonical(r: LeaseRequest): string {
  const { id: _id, arrival: _arrival, ...asked } = r;
  return JSON.stringify(sorted(asked));
}

/** The value with its objects' keys in order, so that two spellings of one request compare equal. */
function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])]));
}
