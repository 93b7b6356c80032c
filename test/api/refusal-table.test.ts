// The refusal codes are listed once (control/refusal.ts), mapped to statuses once
// (api/refusal-status.ts), and published in the OpenAPI document: the three must agree.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REFUSAL_STATUS } from '../../src/api/refusal-status.ts';
import { REFUSAL_CODES, type RefusalCode } from '../../src/control/refusal.ts';
import type { RejectReason } from '../../src/core/types.ts';
import { apiWorld } from './api-world.ts';

// Compile-time halves of the agreement: the table has exactly the union's keys (`satisfies` in
// refusal-status.ts), and every reason the scheduler gives is a code.
const tableKeys: Record<keyof typeof REFUSAL_STATUS, true> = Object.fromEntries(REFUSAL_CODES.map((c) => [c, true])) as Record<RefusalCode, true>;
const reasons: Record<RejectReason, RefusalCode> = { 'insufficient-capacity': 'insufficient-capacity', 'exceeds-pool': 'exceeds-pool', 'too-late': 'too-late', invalid: 'invalid', policy: 'policy' };

test('the status table, the RefusalCode union and the OpenAPI Error code enum list the same codes', async () => {
  const sorted = (xs: Iterable<string>) => [...xs].sort();
  assert.deepEqual(sorted(Object.keys(REFUSAL_STATUS)), sorted(REFUSAL_CODES));
  assert.deepEqual(sorted(Object.keys(tableKeys)), sorted(REFUSAL_CODES));
  assert.equal(new Set(REFUSAL_CODES).size, REFUSAL_CODES.length, 'each code once');
  for (const reason of Object.values(reasons)) assert.ok(reason in REFUSAL_STATUS, reason);
  const w = await apiWorld(1);
  const doc = (await w.call(w.tokens.alice, 'GET', '/v1/openapi.json')).body;
  await w.close();
  const code = doc.components.schemas.Error.properties.code;
  assert.equal(code.type, 'string');
  assert.deepEqual(sorted(code.enum), sorted(REFUSAL_CODES));
  assert.deepEqual(doc.paths['/v1/leases'].post.responses.default.content['application/json'].schema, { $ref: '#/components/schemas/Error' });
});

test('refusals are 4xx and failures 5xx: a store that fails is never the caller\'s fault', () => {
  for (const [code, status] of Object.entries(REFUSAL_STATUS)) {
    // The server's own failures, and a site of several servers that has no leader now or lost it mid-answer.
    const failure = ['internal', 'store-unavailable', 'no-leader', 'leader-lost'].includes(code);
    assert.ok(failure ? status >= 500 && status < 600 : status >= 400 && status < 500, `${code} -> ${status}`);
  }
});

test('control and API code decide by refusal codes, never by exception class or message text', () => {
  const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
  const offences: string[] = [];
  for (const file of [...files('src/control'), ...files('src/api')]) {
    readFileSync(file, 'utf8').split('\n').forEach((line, k) => {
      if (/^\s*(\/\/|\*|\/\*)/.test(line)) return;
      if (/RangeError|instanceof (Range|Type)Error|\.message\)?\s*\.(test|match|includes|startsWith)\(|\.test\(\s*(msg|message|\(?e\b)/.test(line)) offences.push(`${file}:${k + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(offences, []);
});
