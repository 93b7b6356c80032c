// What every refusal answer must look like: the status the one table gives its code, the code,
// and a message to act on.

import assert from 'node:assert/strict';
import type { RefusalCode } from '../../src/control/refusal.ts';
import { REFUSAL_STATUS } from '../../src/api/refusal-status.ts';

export function assertRefused(res: { status: number; body: { code?: unknown; message?: unknown } | null | undefined }, code: RefusalCode, why = ''): void {
  const seen = `${why ? `${why}: ` : ''}${res.status} ${JSON.stringify(res.body)}`;
  assert.equal(res.body?.code, code, seen);
  assert.equal(res.status, REFUSAL_STATUS[code], seen);
  const message = res.body?.message;
  assert.ok(typeof message === 'string' && message.length > 10, `a message to act on: ${seen}`);
}
