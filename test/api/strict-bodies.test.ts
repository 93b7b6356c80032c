// Request bodies are taken exactly as sent and bounded (issue 14, finding 2): no coercion of
// strings, booleans, arrays or null into numbers or strings, only finite numbers of a size the
// store can hold, and a refused body leaves no lease behind.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LATEST_INSTANT, LONGEST_SECONDS } from '../../src/api/limits.ts';
import { apiWorld, lease } from './api-world.ts';

test('lease bodies are not coerced and their numbers are finite and bounded', async () => {
  const w = await apiWorld(2);
  const exact = (over: Record<string, unknown>) => lease({ kind: 'exact', start: 1_800_003_600, ...over });
  const cases: Array<[string, unknown, string]> = [
    ['duration "Infinity"', lease({ duration: 'Infinity' }), 'body.duration'],
    ['start "Infinity"', exact({ start: 'Infinity' }), 'body.start'],
    ['nodes "2"', lease({ nodes: '2' }), 'body.nodes'],
    ['nodes true', lease({ nodes: true }), 'body.nodes'],
    ['kind ["exact"]', exact({ kind: ['exact'] }), 'body.kind'],
    ['start null', exact({ start: null }), 'body.start'],
    ['start 1e300', exact({ start: 1e300 }), 'body.start'],
    ['duration 1e300', lease({ duration: 1e300 }), 'body.duration'],
    ['start after 2100', exact({ start: LATEST_INSTANT + 1 }), 'body.start'],
    ['duration over a year', lease({ duration: LONGEST_SECONDS + 1 }), 'body.duration'],
    ['cpu 1e300', lease({ cpu: 1e300 }), 'body.cpu'],
    ['memoryMiB "1024"', lease({ memoryMiB: '1024' }), 'body.memoryMiB'],
  ];
  for (const route of ['/v1/leases', '/v1/leases/quote']) {
    for (const [what, body, path] of cases) {
      const res = await w.call(w.tokens.alice, 'POST', route, body);
      assert.deepEqual([res.status, res.body.code, res.body.path], [400, 'invalid-request', path], `${route} with ${what}: ${JSON.stringify(res.body)}`);
    }
  }
  const hold = await w.call(w.tokens.alice, 'POST', '/v1/leases/hold', { lease: exact({}), ttl: 'Infinity' });
  assert.deepEqual([hold.status, hold.body.path], [400, 'body.ttl']);
  assert.deepEqual((await w.store.listLeases({ limit: 10 })).length, 0, 'a refused body leaves no lease');
  // What the bounds allow still works, and a query string is still read from its text.
  assert.equal((await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ duration: LONGEST_SECONDS }))).status, 201);
  assert.equal((await w.call(w.tokens.alice, 'GET', '/v1/leases?limit=1')).body.leases.length, 1);
  await w.close();
});

test('token lifetimes and node and image sizes are bounded too', async () => {
  const w = await apiWorld(1);
  const token = await w.call(w.tokens.alice, 'POST', '/v1/users/alice/tokens', { expiresIn: 1e300 });
  assert.deepEqual([token.status, token.body.path], [400, 'body.expiresIn']);
  const node = await w.call(w.tokens.admin, 'POST', '/v1/nodes', { id: 'n9', cpu: 1, memoryMiB: '1024' });
  assert.deepEqual([node.status, node.body.path], [400, 'body.memoryMiB']);
  const image = await w.call(w.tokens.alice, 'POST', '/v1/images', { name: 'big', sizeMiB: 1e300, sha256: 'a'.repeat(64) });
  assert.deepEqual([image.status, image.body.path], [400, 'body.sizeMiB']);
  await w.close();
});
