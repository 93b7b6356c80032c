import type { LeaseRequest } from '../core/types.ts';

/**
 * Whether `retry` asks for the lease `first` made, their ids and arrival times aside: a retry under
 * an Idempotency-Key is made afresh, with a new id, at a later instant. What the site chose for the
 * first (its back-end, where the client named none; where it bursts) is not the client's to repeat.
 */
export function sameRequest(first: LeaseRequest, retry: LeaseRequest): boolean {
  return canonical(first, retry.backend === undefined) === canonical(retry, retry.backend === undefined);
}

function canonical(r: LeaseRequest, anyBackend: boolean): string {
  const { id: _id, arrival: _arrival, burst: _burst, backend, ...asked } = r;
  return JSON.stringify(sorted(anyBackend ? asked : { ...asked, backend }));
}

/** The value with its objects' keys in order, so that two spellings of one request compare equal. */
export function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])]));
}
