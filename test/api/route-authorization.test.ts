// Authorization is decided on the route the router matched (its declared role), never on the
// URL's text: every route of the OpenAPI document, called with a user's token under other
// spellings of its path (percent-encoded letters, doubled slashes, other case), never lets a user
// through an administrator's route, and changes nothing an administrator sees.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiWorld, lease } from './api-world.ts';

/** Other spellings of a path: each letter of the first segment after /v1 percent-encoded in turn, doubled slashes, other case. */
function spellings(path: string): string[] {
  const parts = path.split('/');
  const out = new Set<string>([path, path.replaceAll('/', '//'), `/${path}`, path.toUpperCase(), parts.map((p, i) => (i === 2 ? p.charAt(0).toUpperCase() + p.slice(1) : p)).join('/')]);
  for (let i = 2; i < parts.length; i++) {
    const seg = parts[i];
    if (seg.length === 0) continue;
    const encoded = `%${seg.charCodeAt(0).toString(16).toUpperCase()}${seg.slice(1)}`;
    out.add([...parts.slice(0, i), encoded, ...parts.slice(i + 1)].join('/'));
    out.add([...parts.slice(0, i), `%${seg.charCodeAt(0).toString(16).toLowerCase()}${seg.slice(1)}`, ...parts.slice(i + 1)].join('/'));
  }
  return [...out];
}

test('a user\'s token opens no administrator\'s route, however its path is spelled', async () => {
  const w = await apiWorld(2);
  const made = await w.call(w.tokens.bob, 'POST', '/v1/leases', lease());
  assert.equal(made.status, 201);
  const leaseId: string = made.body.lease.id;
  const doc = (await w.call(w.tokens.admin, 'GET', '/v1/openapi.json')).body as { paths: Record<string, Record<string, { 'x-vws-role': string }>> };
  // What only administrators change: the pool, the users, the groups (bob may cancel his own lease on the way).
  const seen = async () => JSON.stringify([
    (await w.call(w.tokens.admin, 'GET', '/v1/nodes')).body.nodes.map((n: { id: string; status: string; cpu: number }) => [n.id, n.status, n.cpu]),
    (await w.call(w.tokens.admin, 'GET', '/v1/users')).body,
    (await w.call(w.tokens.admin, 'GET', '/v1/groups')).body,
  ]);
  const before = await seen();
  const roles = new Map<string, number>();
  const publicPaths: string[] = [];
  let adminCalls = 0;
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      const role = op['x-vws-role'];
      assert.ok(['public', 'user', 'admin', 'guest'].includes(role), `${method.toUpperCase()} ${path} declares role '${role}'`);
      roles.set(role, (roles.get(role) ?? 0) + 1);
      if (role === 'public') publicPaths.push(path);
      // The event stream stays open for whoever may read it: only its role is checked here.
      if (path === '/v1/events') continue;
      const concrete = path.replaceAll('{id}', path.startsWith('/v1/nodes') ? 'n1' : path.startsWith('/v1/users') ? 'bob' : leaseId)
        .replaceAll('{index}', '0').replaceAll('{name}', 'lab').replaceAll('{user}', 'bob');
      for (const url of spellings(concrete)) {
        const body = method === 'get' || method === 'delete' ? undefined : { id: 'n9', cpu: 1, memoryMiB: 1024, name: 'mallory', user: 'bob', nodes: ['n2'] };
        const res = await w.call(w.tokens.bob, method.toUpperCase(), url, body);
        assert.ok(res.status < 500, `${method.toUpperCase()} ${url} answered ${res.status}: ${JSON.stringify(res.body)}`);
        if (role !== 'admin') continue;
        adminCalls++;
        assert.ok(res.status === 403 || res.status === 404, `bob's ${method.toUpperCase()} ${url} answered ${res.status}: ${JSON.stringify(res.body)}`);
      }
    }
  }
  assert.equal(await seen(), before, 'nothing an administrator sees changed');
  // The walk covered administrators' routes and others, or it says nothing.
  assert.ok((roles.get('admin') ?? 0) >= 10 && (roles.get('user') ?? 0) >= 20, JSON.stringify([...roles]));
  // Open to anyone: the health check, and the dashboard's static files (which hold no data).
  assert.deepEqual(publicPaths.sort(), ['/ui', '/ui/', '/ui/app.css', '/ui/app.js', '/ui/index.html', '/v1/health']);
  assert.ok(adminCalls > 80, `only ${adminCalls} calls to administrators' routes`);
  await w.close();
});

test('the probe of the finding: GET and POST /v1/%6Eodes with a user\'s token are refused', async () => {
  const w = await apiWorld(1);
  const list = await w.call(w.tokens.bob, 'GET', '/v1/%6Eodes');
  assert.deepEqual([list.status, list.body.code], [403, 'forbidden']);
  assert.match(list.body.message, /GET \/v1\/nodes is for administrators/);
  assert.equal((await w.call(w.tokens.bob, 'POST', '/v1/%6Eodes', { id: 'n2', cpu: 1, memoryMiB: 1024 })).status, 403);
  assert.equal((await w.call(w.tokens.bob, 'POST', '/v1/%6Eodes/n1/drain')).status, 403);
  assert.equal((await w.call(w.tokens.admin, 'GET', '/v1/%6Eodes')).status, 200, 'the spelling is the router\'s business; an administrator gets the route');
  await w.close();
});
