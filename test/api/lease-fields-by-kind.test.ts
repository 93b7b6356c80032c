// A lease body's time fields belong to the kinds that use them: start to exact, periodic and
// deadline leases, deadline to deadline leases, recurrence to periodic ones. A field sent with a
// kind that does not use it is refused, naming the field and the kind, rather than silently kept
// (a best-effort lease with a start was stored with a requested start it never had).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiWorld, lease, T0 } from './api-world.ts';

const FIELDS = { start: T0 + 3600, deadline: T0 + 7200, recurrence: { period: 7200, count: 2 } } as const;
const USES: Record<keyof typeof FIELDS, string[]> = { start: ['exact', 'periodic', 'deadline'], deadline: ['deadline'], recurrence: ['periodic'] };
const KINDS = ['best-effort', 'immediate', 'exact', 'urgent', 'deadline', 'periodic'];

test('a time field sent with a kind that does not use it is refused, naming both, and nothing is written', async () => {
  const w = await apiWorld(2);
  const inputs = (await w.store.inputs()).length;
  let refusals = 0;
  for (const kind of KINDS) {
    for (const [field, value] of Object.entries(FIELDS) as [keyof typeof FIELDS, unknown][]) {
      if (USES[field].includes(kind)) continue;
      // What the kind needs is there, so that only the stray field is wrong.
      const needs = { ...(USES.start.includes(kind) ? { start: FIELDS.start } : {}), ...(kind === 'deadline' ? { deadline: FIELDS.deadline } : {}), ...(kind === 'periodic' ? { recurrence: FIELDS.recurrence } : {}) };
      const body = lease({ kind, ...needs, [field]: value });
      for (const [url, sent, at] of [['/v1/leases', body, 'body'], ['/v1/leases/quote', body, 'body'], ['/v1/leases/hold', { lease: body, ttl: 60 }, 'body.lease']] as const) {
        const res = await w.call(w.tokens.alice, 'POST', url, sent);
        // A kind that cannot be held is refused for that first.
        if (url === '/v1/leases/hold' && res.body.path === 'body.lease.kind') continue;
        assert.deepEqual([res.status, res.body.code, res.body.path], [400, 'invalid-request', `${at}.${field}`], `${url} ${kind} with ${field}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.message, new RegExp(`${kind}.*${field}|${field}.*${kind}`));
        refusals++;
      }
    }
  }
  assert.ok(refusals >= 30, `${refusals} refusals`);
  assert.equal((await w.store.inputs()).length, inputs, 'nothing was written');
  await w.close();
});

test('each kind still takes the fields it uses', async () => {
  const w = await apiWorld(2);
  for (const kind of KINDS) {
    const body = lease({ kind, ...Object.fromEntries(Object.entries(FIELDS).filter(([f]) => USES[f as keyof typeof FIELDS].includes(kind))) });
    const res = await w.call(w.tokens.alice, 'POST', '/v1/leases/quote', body);
    assert.equal(res.status, 200, `${kind}: ${JSON.stringify(res.body)}`);
  }
  await w.close();
});
