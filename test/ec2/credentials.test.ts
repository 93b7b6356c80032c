// EC2 access keys on the REST API: issued by an administrator or the user themself, the secret
// shown once and kept only sealed under the server's key file (0600), listed without secrets,
// revoked for good; another user's are neither made, listed nor revoked.

import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Ec2World, ec2World, signedQuery } from './ec2-world.ts';

let w: Ec2World;

before(async () => {
  w = await ec2World(1);
});

after(async () => {
  await w?.close();
});

async function as(token: string, method: string, path: string): Promise<{ status: number; body: { [k: string]: unknown } }> {
  const r = await fetch(`${w.rest}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  return { status: r.status, body: (await r.json()) as { [k: string]: unknown } };
}

test('a user makes, lists and revokes their own keys, and no one else\'s; secrets are sealed at rest', async () => {
  const annToken = (await w.call('POST', '/v1/users/ann/tokens', { label: 't' })).body.token as string;
  const made = await as(annToken, 'POST', '/v1/users/ann/ec2-credentials');
  assert.equal(made.status, 201);
  const { accessKeyId, secretAccessKey } = made.body as { accessKeyId: string; secretAccessKey: string };
  assert.match(accessKeyId, /^AKIA[A-Z2-7]{16}$/);
  assert.equal(secretAccessKey.length, 40);
  assert.equal((await as(annToken, 'POST', '/v1/users/bob/ec2-credentials')).status, 403);
  // The request has no fields: one it does not know, a number JSON cannot hold, or a key id not of
  // the issued form is refused by field, and no key is made.
  for (const body of ['{"label":"x"}', '{"n":1e309}', '[]']) {
    const r = await fetch(`${w.rest}/v1/users/ann/ec2-credentials`, { method: 'POST', headers: { authorization: `Bearer ${annToken}`, 'content-type': 'application/json' }, body });
    assert.equal(r.status, 400, body);
    assert.equal(((await r.json()) as { code: string }).code, 'invalid-request');
  }
  assert.equal((await as(annToken, 'DELETE', '/v1/users/ann/ec2-credentials/AKIA%00')).status, 400);
  assert.equal((await as(annToken, 'GET', '/v1/users/bob/ec2-credentials')).status, 403);

  const listed = await as(annToken, 'GET', '/v1/users/ann/ec2-credentials');
  const ids = (listed.body.credentials as { accessKeyId: string }[]).map((c) => c.accessKeyId);
  assert.deepEqual(ids.sort(), [w.ann.accessKeyId, accessKeyId].sort());
  assert.ok(!JSON.stringify(listed.body).includes(secretAccessKey));

  // Neither secret is in the store's file in clear; the key file is the server's alone.
  const dataDir = join(w.server.output().match(/store (\S+)\/vws\.db/)![1]);
  const db = readFileSync(join(dataDir, 'vws.db')).toString('latin1') + readFileSync(join(dataDir, 'vws.db-wal')).toString('latin1');
  assert.ok(!db.includes(secretAccessKey) && !db.includes(w.ann.secretAccessKey));
  assert.equal(statSync(join(dataDir, 'ec2-secret.key')).mode & 0o777, 0o600);

  const keys = { accessKeyId, secretAccessKey };
  assert.equal((await signedQuery(w.endpoint, keys, { Action: 'DescribeRegions' })).status, 200);
  assert.equal((await as(annToken, 'DELETE', `/v1/users/bob/ec2-credentials/${accessKeyId}`)).status, 403);
  assert.equal((await w.call('DELETE', `/v1/users/bob/ec2-credentials/${accessKeyId}`)).status, 404);
  assert.equal((await as(annToken, 'DELETE', `/v1/users/ann/ec2-credentials/${accessKeyId}`)).status, 200);
  assert.equal((await as(annToken, 'DELETE', `/v1/users/ann/ec2-credentials/${accessKeyId}`)).status, 404);
  const revoked = await signedQuery(w.endpoint, keys, { Action: 'DescribeRegions' });
  assert.deepEqual([revoked.status, revoked.code], [401, 'AuthFailure']);

  // A disabled user's keys stop with its tokens.
  assert.equal((await w.call('POST', '/v1/users/ann/disable')).status, 200);
  assert.equal((await signedQuery(w.endpoint, w.ann, { Action: 'DescribeRegions' })).code, 'AuthFailure');
  await w.call('POST', '/v1/users/ann/enable');
  assert.equal((await signedQuery(w.endpoint, w.ann, { Action: 'DescribeRegions' })).status, 200);
});
