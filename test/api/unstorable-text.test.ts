// Text the store cannot hold (NUL; half of a surrogate pair, which PostgreSQL's text and jsonb
// refuse) is refused wherever a request carries it, naming where: path parameters, query
// strings and body fields of every route, not only those whose schemas forbid it. On PostgreSQL
// a NUL in a user name in the path (POST /v1/users/%00/enable) answered 503, as if the store had
// failed, and a NUL in a token's label failed its write.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiWorld } from './api-world.ts';
import { cluster, headRole, KEY_LINES, workerRole } from './cluster-body.ts';
import { STORE_KINDS } from '../support/test-stores.ts';

for (const kind of STORE_KINDS) {
  test(`${kind}: NUL and lone surrogates are refused with 400 naming the field, wherever they come`, async () => {
    const w = await apiWorld(1, undefined, kind);
    try {
      const cases: [string, 'alice' | 'admin', string, string, unknown, string][] = [
        ['a user in the path', 'admin', 'POST', '/v1/users/a%00b/enable', undefined, 'params.id'],
        ['a user in a token path', 'alice', 'GET', '/v1/users/%00/tokens', undefined, 'params.id'],
        ['a group in the path', 'admin', 'DELETE', '/v1/groups/lab/members/%00', undefined, 'params.user'],
        ['a token id', 'alice', 'DELETE', '/v1/tokens/%00', undefined, 'params.id'],
        ['an image name', 'alice', 'GET', '/v1/images/x%00/content', undefined, 'params.name'],
        ['an owner in the query', 'alice', 'GET', '/v1/leases?owner=%00', undefined, 'querystring.owner'],
        ['a member to add', 'admin', 'POST', '/v1/groups/lab/members', { user: 'bob\u0000' }, 'body.user'],
        ['a token label', 'alice', 'POST', '/v1/users/alice/tokens', { label: 'a\u0000' }, 'body.label'],
        ['a lone surrogate in a label', 'alice', 'POST', '/v1/users/alice/tokens', { label: 'a\ud800' }, 'body.label'],
        ['a boot command line', 'alice', 'POST', '/v1/images', { name: 'k', sizeMiB: 1, sha256: 'a'.repeat(64), boot: { kernel: 'k', initrd: 'k', cmdline: 'x\u0000' } }, 'body.boot.cmdline'],
        ['a lease\'s image', 'alice', 'POST', '/v1/leases', { kind: 'best-effort', nodes: 1, cpu: 1, memoryMiB: 512, duration: 60, image: 'i\ud800' }, 'body.image'],
        ['a role\'s name', 'alice', 'POST', '/v1/leases', cluster({ roles: [headRole({ name: 'he\u0000ad' })] }), 'body.roles.0.name'],
        ['a role\'s requirement', 'alice', 'POST', '/v1/leases/quote', cluster({ roles: [headRole(), workerRole({ requires: ['head.ip\ud800'] })] }), 'body.roles.1.requires.0'],
        ['user-data', 'alice', 'POST', '/v1/leases', cluster({ userData: '#!/bin/sh\n\u0000' }), 'body.userData'],
        ['an ssh key\'s comment', 'alice', 'POST', '/v1/leases', cluster({ sshPublicKeys: [`${KEY_LINES[0]}\ud800`] }), 'body.sshPublicKeys.0'],
      ];
      for (const [what, who, method, url, body, path] of cases) {
        const res = await w.call(w.tokens[who], method, url, body);
        assert.deepEqual([res.status, res.body.code, res.body.path], [400, 'invalid-request', path], `${what}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.message, /NUL|surrogate/);
      }
      // The search goes as deep as the body: JSON nested 20,000 deep is looked through (and refused by the schema), not a 500.
      const deep = await w.app.inject({ method: 'POST', url: '/v1/nodes', payload: `${'['.repeat(20_000)}${']'.repeat(20_000)}`, headers: { authorization: `Bearer ${w.tokens.admin}`, 'content-type': 'application/json' } });
      assert.deepEqual([deep.statusCode, deep.json().code], [400, 'invalid-request'], deep.body.slice(0, 300));
      // Junk nested deep inside a lease's roles: the schema's answer, naming the field.
      const junk = JSON.stringify(cluster({ roles: [headRole({ provides: ['@'] })] })).replace('"@"', `${'['.repeat(20_000)}"\\u0000"${']'.repeat(20_000)}`);
      const nested = await w.app.inject({ method: 'POST', url: '/v1/leases', payload: junk, headers: { authorization: `Bearer ${w.tokens.alice}`, 'content-type': 'application/json' } });
      assert.deepEqual([nested.statusCode, nested.json().code, String(nested.json().path).slice(0, 25)], [400, 'invalid-request', 'body.roles.0.provides.0.0'], nested.body.slice(0, 300));
      assert.deepEqual(await w.store.listLeases({}), [], 'no lease was made of any of them');
      const made = await w.call(w.tokens.alice, 'POST', '/v1/users/alice/tokens', { label: 'fine' });
      assert.equal(made.status, 201, 'the service keeps serving');
    } finally {
      await w.close();
    }
  });
}
