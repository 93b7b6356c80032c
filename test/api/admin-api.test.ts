import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { hashToken } from '../../src/api/auth.ts';
import { PATIENCE_MS } from '../support/wait.ts';
import { apiWorld, lease } from './api-world.ts';

test('nodes are for admins: add, list with their leases, drain, and remove once idle', async () => {
  const w = await apiWorld(1);
  assert.equal((await w.call(w.tokens.alice, 'GET', '/v1/nodes')).status, 403);
  assert.equal((await w.call(w.tokens.admin, 'POST', '/v1/nodes', { id: 'n2', cpu: 1, memoryMiB: 1024 })).status, 201);
  assert.equal((await w.call(w.tokens.admin, 'POST', '/v1/nodes', { id: 'n2', cpu: 1, memoryMiB: 1024 })).body.code, 'already-exists');
  assert.equal((await w.call(w.tokens.admin, 'POST', '/v1/nodes', { id: 'bad id', cpu: 1, memoryMiB: 1024 })).status, 400);
  const l = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ nodes: 2 }));
  assert.equal(l.status, 201);
  const nodes = (await w.call(w.tokens.admin, 'GET', '/v1/nodes')).body.nodes;
  assert.deepEqual(nodes.map((n: { id: string; leases: string[] }) => [n.id, n.leases]), [['n1', [l.body.lease.id]], ['n2', [l.body.lease.id]]]);
  assert.equal((await w.call(w.tokens.admin, 'DELETE', '/v1/nodes/n2')).body.code, 'wrong-state', 'drain first');
  assert.equal((await w.call(w.tokens.admin, 'POST', '/v1/nodes/n2/drain')).status, 200);
  assert.equal((await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ nodes: 2 }))).body.code, 'exceeds-pool', 'a drained node takes no new lease');
  assert.equal((await w.call(w.tokens.admin, 'DELETE', '/v1/nodes/n2')).body.code, 'node-busy', 'its lease still runs');
  await w.call(w.tokens.alice, 'DELETE', `/v1/leases/${l.body.lease.id}`);
  assert.equal((await w.call(w.tokens.admin, 'DELETE', '/v1/nodes/n2')).status, 200);
  const again = await w.call(w.tokens.admin, 'POST', '/v1/nodes', { id: 'n2', cpu: 1, memoryMiB: 1024 });
  assert.deepEqual([again.status, again.body.code], [409, 'already-exists']);
  assert.match(again.body.message, /was removed; node ids are not reused/);
  await w.close();
});

test('tokens are shown once, stored as hashes, and stop working when revoked', async () => {
  const w = await apiWorld();
  const made = await w.call(w.tokens.alice, 'POST', '/v1/users/alice/tokens', { label: 'laptop' });
  assert.equal(made.status, 201);
  const stored = await w.store.tokensOf('alice');
  assert.ok(stored.every((t) => t.hash !== made.body.token && /^[0-9a-f]{64}$/.test(t.hash)));
  assert.ok(stored.some((t) => t.hash === hashToken(made.body.token)));
  assert.ok((await w.call(w.tokens.alice, 'GET', '/v1/users/alice/tokens')).body.tokens.every((t: object) => !('hash' in t)));
  assert.equal((await w.call(made.body.token, 'GET', '/v1/whoami')).body.id, 'alice');
  assert.equal((await w.call(w.tokens.bob, 'POST', '/v1/users/alice/tokens', {})).status, 403);
  assert.equal((await w.call(w.tokens.alice, 'DELETE', `/v1/tokens/${made.body.id}`)).status, 200);
  assert.equal((await w.call(made.body.token, 'GET', '/v1/whoami')).status, 401);
  assert.equal((await w.call(w.tokens.alice, 'POST', '/v1/users', { name: 'eve' })).status, 403);
  assert.equal((await w.call(w.tokens.admin, 'POST', '/v1/users', { name: 'eve' })).status, 201);
  await w.close();
});

test('image content is verified against its registered sha256 before it is kept', async () => {
  const w = await apiWorld();
  const content = Buffer.from('a tiny disk image');
  const sha256 = createHash('sha256').update(content).digest('hex');
  assert.equal((await w.call(w.tokens.alice, 'POST', '/v1/images', { name: 'tiny', sizeMiB: 1, sha256 })).status, 201);
  const put = (body: Buffer) => w.app.inject({ method: 'PUT', url: '/v1/images/tiny/content', payload: body, headers: { authorization: `Bearer ${w.tokens.alice}`, 'content-type': 'application/octet-stream' } });
  const wrong = await put(Buffer.from('something else'));
  assert.equal(wrong.statusCode, 422);
  assert.equal(JSON.parse(wrong.body).code, 'checksum-mismatch');
  assert.equal((await w.store.getImage('tiny'))!.uploaded, false);
  assert.equal((await put(content)).statusCode, 200);
  const got = await w.app.inject({ method: 'GET', url: '/v1/images/tiny/content', headers: { authorization: `Bearer ${w.tokens.alice}` } });
  assert.equal(got.rawPayload.toString(), content.toString());
  assert.equal((await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ image: 'tiny' }))).status, 201);
  await w.close();
});

test('an image booted from a kernel and an initrd names images that are registered', async () => {
  const w = await apiWorld();
  const sha256 = 'c'.repeat(64);
  const boot = { kernel: 'k', initrd: 'i', cmdline: 'console=ttyS0' };
  const refused = await w.call(w.tokens.alice, 'POST', '/v1/images', { name: 'disk', sizeMiB: 16, sha256, boot });
  assert.equal(refused.status, 422);
  assert.equal(refused.body.code, 'unknown-image');
  assert.equal(refused.body.path, 'body.boot');
  assert.equal(await w.store.getImage('disk'), null);
  for (const name of ['k', 'i']) assert.equal((await w.call(w.tokens.alice, 'POST', '/v1/images', { name, sizeMiB: 1, sha256 })).status, 201);
  const made = await w.call(w.tokens.alice, 'POST', '/v1/images', { name: 'disk', sizeMiB: 16, sha256, boot });
  assert.equal(made.status, 201);
  assert.deepEqual(made.body.boot, boot);
  assert.deepEqual((await w.store.getImage('disk'))!.boot, boot);
  await w.close();
});

test('the owner stops, suspends and resumes its lease; others may not', async () => {
  const w = await apiWorld();
  const id = (await w.call(w.tokens.alice, 'POST', '/v1/leases', lease())).body.lease.id;
  await w.service.idle();
  assert.equal((await w.call(w.tokens.bob, 'POST', `/v1/leases/${id}/suspend`)).status, 404);
  // Not in the second its run began (a run of no length): one second later.
  w.clock.advance(1);
  const suspended = await w.call(w.tokens.alice, 'POST', `/v1/leases/${id}/workspaces/0/suspend`);
  assert.equal(suspended.status, 200, JSON.stringify(suspended.body));
  w.clock.advance(60);
  await w.service.idle();
  assert.equal((await w.call(w.tokens.alice, 'GET', `/v1/leases/${id}`)).body.status, 'suspended');
  assert.equal((await w.driver.status()).find((v) => v.id === `${id}/0`)?.state, 'suspended');
  assert.equal((await w.call(w.tokens.alice, 'POST', `/v1/leases/${id}/stop`)).body.code, 'wrong-state');
  assert.equal((await w.call(w.tokens.alice, 'POST', `/v1/leases/${id}/resume`)).status, 200);
  await w.service.idle();
  assert.equal((await w.call(w.tokens.alice, 'GET', `/v1/leases/${id}`)).body.status, 'resuming', '1024 MiB at 50 MB/s: 21 s');
  w.clock.advance(21);
  await w.service.idle();
  assert.equal((await w.call(w.tokens.alice, 'GET', `/v1/leases/${id}`)).body.status, 'running');
  w.clock.advance(100);
  assert.equal((await w.call(w.tokens.alice, 'POST', `/v1/leases/${id}/stop`)).status, 200);
  await w.service.idle();
  const done = (await w.call(w.tokens.alice, 'GET', `/v1/leases/${id}`)).body;
  assert.equal(done.status, 'done');
  assert.equal(done.usage.running.coreSeconds, 1 + 100);
  assert.equal(done.usage.resuming.mibSeconds, 21 * 1024);
  const usage = (await w.call(w.tokens.alice, 'GET', '/v1/usage')).body;
  assert.equal(done.usage.suspending.coreSeconds, 21);
  assert.equal(usage.users.alice.coreSeconds, 21 + 21 + 1 + 100, 'suspending, resuming and running');
  await w.close();
});

test('metrics in Prometheus text format, for admins', async () => {
  const w = await apiWorld();
  await w.call(w.tokens.alice, 'POST', '/v1/leases', lease());
  assert.equal((await w.call(w.tokens.alice, 'GET', '/metrics')).status, 403);
  const text = (await w.call(w.tokens.admin, 'GET', '/metrics')).body as string;
  assert.match(text, /^vws_leases\{status="running"\} 1$/m);
  assert.match(text, /^vws_queue_length 0$/m);
  assert.match(text, /^vws_scheduling_latency_seconds_count 1$/m);
  assert.match(text, /^vws_node_utilization\{node="n1"\} 1$/m);
  await w.close();
});

test('events stream as SSE, filtered to what the caller may see, and resume after Last-Event-ID', { timeout: PATIENCE_MS }, async () => {
  const w = await apiWorld();
  await w.app.listen({ host: '127.0.0.1', port: 0 });
  const port = (w.app.server.address() as { port: number }).port;
  const mine = (await w.call(w.tokens.alice, 'POST', '/v1/leases', lease())).body.lease.id;
  await w.call(w.tokens.bob, 'POST', '/v1/leases', lease());
  // Each read ends at a fence: a lease of alice's made once the stream is open. Events come in id
  // order, so all that was there before it (bob's lease included) has been sent by then, or never will be.
  const read = async (token: string, lastId?: string) => {
    const ac = new AbortController();
    const res = await fetch(`http://127.0.0.1:${port}/v1/events`, { headers: { authorization: `Bearer ${token}`, ...(lastId ? { 'last-event-id': lastId } : {}) }, signal: ac.signal });
    const reader = res.body!.getReader();
    const fence = (await w.call(w.tokens.alice, 'POST', '/v1/leases', lease())).body.lease.id;
    let text = '';
    while (!text.includes(`"leaseId":"${fence}"`)) {
      const { done, value } = await reader.read();
      if (done) assert.fail(`the stream ended before the fence: ${text}`);
      text += new TextDecoder().decode(value);
    }
    ac.abort();
    const frames = text.split('\n\n').filter((f) => f.startsWith('id:')).map((f) => ({ id: f.split('\n')[0].slice(4), data: JSON.parse(f.split('\n')[2].slice(6)) }));
    return frames.filter((e) => e.data.leaseId !== fence);
  };
  const alices = await read(w.tokens.alice);
  assert.ok(alices.length > 0);
  assert.ok(alices.every((e) => e.data.leaseId === mine), JSON.stringify(alices));
  const admins = await read(w.tokens.admin);
  assert.ok(admins.some((e) => e.data.leaseId !== mine && e.data.leaseId !== null));
  const after = await read(w.tokens.admin, admins[0].id);
  assert.ok(after.every((e) => Number(e.id) > Number(admins[0].id)));
  await w.close();
});

test('a token can be made with no body at all, and one workspace can be read on its own', async () => {
  const w = await apiWorld();
  const res = await w.app.inject({ method: 'POST', url: '/v1/users/alice/tokens', headers: { authorization: `Bearer ${w.tokens.alice}` } });
  assert.equal(res.statusCode, 201, res.body);
  const id = (await w.call(w.tokens.alice, 'POST', '/v1/leases', lease())).body.lease.id;
  await w.service.idle();
  const ws = await w.call(w.tokens.alice, 'GET', `/v1/leases/${id}/workspaces/0`);
  assert.equal(ws.status, 200);
  assert.equal(ws.body.status, 'running');
  assert.match(ws.body.mac, /^52:54:00(:[0-9a-f]{2}){3}$/);
  assert.equal((await w.call(w.tokens.alice, 'GET', `/v1/leases/${id}/workspaces/1`)).status, 404);
  assert.equal((await w.call(w.tokens.bob, 'GET', `/v1/leases/${id}/workspaces/0`)).status, 404);
  await w.close();
});

test('an administrator moves a running best-effort lease to another node while it runs', async () => {
  const w = await apiWorld();
  const id = (await w.call(w.tokens.alice, 'POST', '/v1/leases', lease())).body.lease.id;
  await w.service.idle();
  const before = (await w.call(w.tokens.alice, 'GET', `/v1/leases/${id}`)).body;
  assert.equal(before.status, 'running');
  const from = before.nodes[0];
  const to = ['n1', 'n2', 'n3', 'n4'].find((n) => n !== from)!;
  w.clock.advance(60);
  assert.equal((await w.call(w.tokens.alice, 'POST', `/v1/leases/${id}/migrate`, { nodes: [to] })).status, 403);
  const same = await w.call(w.tokens.admin, 'POST', `/v1/leases/${id}/migrate`, { nodes: [from] });
  assert.deepEqual([same.status, same.body.code], [400, 'invalid-request']);
  assert.match(same.body.message, new RegExp(`already runs on node '${from}'`));
  const unknown = await w.call(w.tokens.admin, 'POST', `/v1/leases/${id}/migrate`, { nodes: ['nowhere'] });
  assert.deepEqual([unknown.status, unknown.body.code], [422, 'unknown-node']);
  assert.match(unknown.body.message, /no node 'nowhere'/);
  const inputsBefore = (await w.store.inputs()).length;
  const moved = await w.call(w.tokens.admin, 'POST', `/v1/leases/${id}/migrate`, { nodes: [to] });
  assert.equal(moved.status, 200, JSON.stringify(moved.body));
  assert.deepEqual(moved.body.lease.nodes, [to]);
  assert.equal((await w.store.inputs()).length, inputsBefore + 1, 'only the accepted migration is logged');
  await w.service.idle();
  const vm = (await w.driver.status()).find((v) => v.id === `${id}/0`);
  assert.deepEqual([vm?.node, vm?.state], [to, 'running']);
  await w.close();
});
