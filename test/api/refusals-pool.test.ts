// Every refusal of the node, image, admin and event routes, through the real server on SQLite:
// its code, and the status the one table gives that code.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiWorld, lease } from './api-world.ts';
import { assertRefused } from './refusal-assert.ts';

test('nodes: a missing node is not-found (404) and a busy or undrained one a conflict (409), told apart by code, not by message text', async () => {
  const w = await apiWorld(2);
  const admin = w.tokens.admin;
  assertRefused(await w.call(w.tokens.alice, 'GET', '/v1/nodes'), 'forbidden');
  assertRefused(await w.call(w.tokens.alice, 'DELETE', '/v1/nodes/n1'), 'forbidden');
  assertRefused(await w.call(admin, 'POST', '/v1/nodes', { id: 'bad id', cpu: 1, memoryMiB: 1024 }), 'invalid-request');
  assertRefused(await w.call(admin, 'POST', '/v1/nodes', { id: 'n1', cpu: 1, memoryMiB: 1024 }), 'already-exists');
  assertRefused(await w.call(admin, 'POST', '/v1/nodes/nowhere/drain'), 'not-found');
  assertRefused(await w.call(admin, 'DELETE', '/v1/nodes/nowhere'), 'not-found');
  const active = await w.call(admin, 'DELETE', '/v1/nodes/n2');
  assertRefused(active, 'wrong-state', 'an active node is drained first');
  assert.match(active.body.message, /drain it first/);
  const l = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ nodes: 2 }));
  assert.equal(l.status, 201);
  assert.equal((await w.call(admin, 'POST', '/v1/nodes/n2/drain')).status, 200);
  const busy = await w.call(admin, 'DELETE', '/v1/nodes/n2');
  assertRefused(busy, 'node-busy', 'its lease still runs');
  assert.match(busy.body.message, /still holds leases/);
  await w.call(w.tokens.alice, 'DELETE', `/v1/leases/${l.body.lease.id}`);
  assert.equal((await w.call(admin, 'DELETE', '/v1/nodes/n2')).status, 200);
  assertRefused(await w.call(admin, 'DELETE', '/v1/nodes/n2'), 'not-found', 'removed already');
  assertRefused(await w.call(admin, 'POST', '/v1/nodes/n2/drain'), 'not-found', 'removed nodes are not drained');
  const reused = await w.call(admin, 'POST', '/v1/nodes', { id: 'n2', cpu: 1, memoryMiB: 1024 });
  assertRefused(reused, 'already-exists', 'node ids are not reused');
  await w.close();
});

test('images: every refusal of registering, uploading and downloading', async () => {
  const w = await apiWorld();
  const sha256 = 'a'.repeat(64);
  const upload = async (token: string, name: string, body: Buffer | string, type = 'application/octet-stream') => {
    const res = await w.app.inject({ method: 'PUT', url: `/v1/images/${name}/content`, payload: body, headers: { authorization: `Bearer ${token}`, 'content-type': type } });
    return { status: res.statusCode, body: JSON.parse(res.body) };
  };
  assert.equal((await w.call(w.tokens.alice, 'POST', '/v1/images', { name: 'disk', sizeMiB: 1, sha256, visibility: 'group' })).status, 201);
  assertRefused(await w.call(w.tokens.bob, 'POST', '/v1/images', { name: 'disk', sizeMiB: 1, sha256 }), 'already-exists');
  assertRefused(await w.call(w.tokens.alice, 'POST', '/v1/images', { name: 'pub', sizeMiB: 1, sha256, visibility: 'public' }), 'forbidden', 'only administrators publish');
  assertRefused(await w.call(w.tokens.alice, 'POST', '/v1/images', { name: 'g', sizeMiB: 1, sha256, group: 'ops' }), 'forbidden', 'not alice\'s group');
  assertRefused(await w.call(w.tokens.bob, 'POST', '/v1/images', { name: 'g', sizeMiB: 1, sha256, visibility: 'group' }), 'invalid-request', 'bob has no group');
  assertRefused(await w.call(w.tokens.alice, 'PATCH', '/v1/images/disk', {}), 'invalid-request', 'nothing to change');
  assertRefused(await w.call(w.tokens.alice, 'PATCH', '/v1/images/disk', { visibility: 'everyone' }), 'invalid-request');
  assertRefused(await w.call(w.tokens.carol, 'PATCH', '/v1/images/disk', { visibility: 'private' }), 'forbidden', 'carol sees it, alice owns it');
  assertRefused(await w.call(w.tokens.bob, 'PATCH', '/v1/images/disk', { visibility: 'private' }), 'not-found', 'bob does not see it');
  assertRefused(await w.call(w.tokens.admin, 'PATCH', '/v1/images/disk', { group: 'nowhere' }), 'not-found', 'no such group');
  assertRefused(await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ image: 'disk' })), 'wrong-state', 'its content is not uploaded');
  assertRefused(await w.call(w.tokens.alice, 'POST', '/v1/images', { name: 'x', sizeMiB: 1, sha256: 'not-hex' }), 'invalid-request');
  assertRefused(await w.call(w.tokens.alice, 'POST', '/v1/images', { name: 'y', sizeMiB: 1, sha256, boot: { kernel: 'k', initrd: 'i', cmdline: '' } }), 'unknown-image');
  assertRefused(await upload(w.tokens.alice, 'nope', Buffer.from('x')), 'not-found');
  assertRefused(await upload(w.tokens.carol, 'disk', Buffer.from('x')), 'forbidden', 'carol sees alice\'s image; it is not hers');
  assertRefused(await upload(w.tokens.bob, 'disk', Buffer.from('x')), 'not-found', 'bob does not see alice\'s image');
  assertRefused(await upload(w.tokens.alice, 'disk', Buffer.from('not the content')), 'checksum-mismatch');
  assertRefused(await upload(w.tokens.alice, 'disk', '{"a":1}', 'application/json'), 'unsupported-media-type', 'JSON is not content');
  assertRefused(await upload(w.tokens.alice, 'disk', 'text', 'text/plain'), 'unsupported-media-type', 'a type no parser takes');
  assertRefused(await w.call(w.tokens.alice, 'GET', '/v1/images/disk/content'), 'not-found', 'not uploaded yet');
  assertRefused(await w.call(null, 'GET', '/v1/images'), 'unauthorized');
  await w.close();
});

test('users, groups and tokens: every refusal with its code and status', async () => {
  const w = await apiWorld();
  const admin = w.tokens.admin;
  assertRefused(await w.call(null, 'GET', '/v1/whoami'), 'unauthorized');
  assertRefused(await w.call('vws_forged', 'GET', '/v1/whoami'), 'unauthorized');
  assertRefused(await w.call(w.tokens.alice, 'POST', '/v1/users', { name: 'eve' }), 'forbidden');
  assertRefused(await w.call(w.tokens.alice, 'GET', '/v1/groups'), 'forbidden');
  assertRefused(await w.call(w.tokens.alice, 'GET', '/v1/schedule'), 'forbidden');
  assertRefused(await w.call(w.tokens.alice, 'GET', '/metrics'), 'forbidden');
  assertRefused(await w.call(admin, 'POST', '/v1/users', { name: 'alice' }), 'already-exists');
  assertRefused(await w.call(admin, 'POST', '/v1/users', { name: 'Not A Name' }), 'invalid-request');
  assertRefused(await w.call(admin, 'POST', '/v1/groups', { name: 'lab' }), 'already-exists');
  assertRefused(await w.call(admin, 'POST', '/v1/groups/none/members', { user: 'alice' }), 'not-found');
  assertRefused(await w.call(admin, 'POST', '/v1/groups/lab/members', { user: 'nobody' }), 'not-found');
  assertRefused(await w.call(admin, 'DELETE', '/v1/groups/none/members/alice'), 'not-found');
  assertRefused(await w.call(w.tokens.bob, 'POST', '/v1/users/alice/tokens', {}), 'forbidden');
  assertRefused(await w.call(w.tokens.bob, 'GET', '/v1/users/alice/tokens'), 'forbidden');
  assertRefused(await w.call(admin, 'POST', '/v1/users/nobody/tokens', {}), 'not-found');
  assertRefused(await w.call(admin, 'POST', '/v1/users/alice/tokens', { expiresIn: 1 }), 'invalid-request');
  const alices = (await w.call(w.tokens.alice, 'GET', '/v1/users/alice/tokens')).body.tokens[0].id;
  assertRefused(await w.call(w.tokens.bob, 'DELETE', `/v1/tokens/${alices}`), 'not-found', 'not bob\'s token to see');
  assertRefused(await w.call(admin, 'DELETE', '/v1/tokens/none'), 'not-found');
  assertRefused(await w.call(admin, 'GET', '/v1/no-such-route'), 'not-found');
  const badJson = await w.app.inject({ method: 'POST', url: '/v1/users', payload: '{"name":', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' } });
  assertRefused({ status: badJson.statusCode, body: JSON.parse(badJson.body) }, 'invalid-request', 'JSON that does not parse');
  await w.close();
});

test('events: a token is needed, and where to resume from must be an event id', async () => {
  const w = await apiWorld();
  assertRefused(await w.call(null, 'GET', '/v1/events'), 'unauthorized');
  const after = await w.call(w.tokens.alice, 'GET', '/v1/events?after=yesterday');
  assertRefused(after, 'invalid-request');
  assert.equal(after.body.path, 'querystring.after');
  const header = await w.call(w.tokens.alice, 'GET', '/v1/events', undefined, { 'last-event-id': '12abc' });
  assertRefused(header, 'invalid-request');
  assert.equal(header.body.path, 'header last-event-id');
  await w.close();
});
