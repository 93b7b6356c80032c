import assert from 'node:assert/strict';
import type { Done, Refusal } from '../../../src/core/types.ts';

/** What a core action returned (without its `ok`) when it must have been done. */
export function mustDo<T extends object>(r: Done<T>): T {
  if (!r.ok) assert.fail(`refused (${r.code}): ${r.message}`);
  const { ok: _, ...rest } = r;
  return rest as unknown as T;
}

/** Asserts that a core action was refused with `code`, and a message matching `message`. */
export function assertRefused(r: { ok: boolean } | Refusal | null, code: Refusal['code'], message: RegExp): void {
  assert.ok(r !== null && !r.ok && 'code' in r, `expected a refusal (${code}), got ${JSON.stringify(r)}`);
  assert.equal((r as Refusal).code, code);
  assert.match((r as Refusal).message, message);
}
