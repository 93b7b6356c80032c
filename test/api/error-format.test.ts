// One error format everywhere (issue 14, finding 9): Fastify's own refusals in the API's codes and
// words, echoed input cut short, and a bug's or a database's internals logged, never sent.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiWorld, lease } from './api-world.ts';

test('malformed JSON, another content type and a huge echoed name answer in the API\'s own words', async () => {
  const w = await apiWorld(1);
  const raw = (payload: string, type: string) => w.app.inject({ method: 'POST', url: '/v1/leases', payload, headers: { authorization: `Bearer ${w.tokens.alice}`, 'content-type': type } });
  const bad = await raw('{"kind": ', 'application/json');
  assert.deepEqual([bad.statusCode, JSON.parse(bad.body)], [400, { code: 'invalid-request', message: 'the body is not valid JSON: check its quotes, commas and brackets' }]);
  const form = await raw('x=1', 'application/x-www-form-urlencoded');
  assert.deepEqual([form.statusCode, JSON.parse(form.body).code], [415, 'unsupported-media-type']);
  assert.match(JSON.parse(form.body).message, /send the body as application\/json/);
  for (const res of [bad, form]) assert.doesNotMatch(res.body, /FST_ERR/);
  // JSON claimed in another charset would be read as UTF-8 all the same: refused, with what to send (found by the context fuzz, seed 1307056571).
  const body = JSON.stringify(lease());
  for (const type of ['application/json; charset=utf-16', 'application/json; charset="latin1"', 'Application/JSON;Charset=UTF-16LE']) {
    const other = await raw(body, type);
    assert.deepEqual([other.statusCode, JSON.parse(other.body).code], [415, 'unsupported-media-type'], type);
    assert.match(JSON.parse(other.body).message, /JSON is read as UTF-8/);
  }
  for (const type of ['application/json; charset=utf-8', 'application/json; charset=UTF8', 'application/json']) assert.equal((await raw(body, type)).statusCode, 201, type);
  const named = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ image: 'y'.repeat(500_000) }));
  assert.equal(named.body.code, 'unknown-image');
  assert.ok(named.body.message.length < 1100, `a message of ${named.body.message.length} characters`);
  assert.match(named.body.message, /… \(\d+ more characters cut\)$/);
  await w.close();
});

test('a bug answers 500 with where to look, not what failed inside', async () => {
  const w = await apiWorld(1);
  // A fault inside the service, in its own terms: a bug, not a refusal and not the store's.
  w.service.pool.leasesOnNode = () => {
    throw new TypeError('secret internals at /srv/vws/src/x.ts:42');
  };
  const res = await w.call(w.tokens.admin, 'GET', '/v1/nodes');
  assert.equal(res.status, 500);
  assert.equal(res.body.code, 'internal');
  assert.match(res.body.message, /^the server failed \(the server's log has the cause under request /);
  assert.doesNotMatch(JSON.stringify(res.body), /secret|\/srv\//);
  await w.close();
});
