// A follower answers the lease reads itself, from the store, as the leader would (the same rows,
// the same refusals, decided on the matched route with the same tokens), with usage and charge as
// of the row; what the store cannot answer it hands to the leader; and it goes on answering reads
// while no server leads. Two `vws serve` on one PostgreSQL store, and a fuzz of requests sent to
// both.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { freePort } from '../support/free-port.ts';
import { type Answer, call, followersOf, leaderOf, type Server, startServer, stopServers } from '../support/serve-processes.ts';
import { dropTestSchema, freshSchema, TEST_POSTGRES_URL, withTestClient } from '../support/test-postgres.ts';

const ADMIN = 'vws_test-follower-reads-admin';
const schema = freshSchema();
const dir = mkdtempSync(join(tmpdir(), 'vws-follower-reads-'));
const serve = { store: `${TEST_POSTGRES_URL}?schema=${schema}`, dir, token: ADMIN, nodes: 4 };
const servers: Server[] = [];
let leader: Server;
let follower: Server;
let ann = '';
const leases: Record<string, string> = {};

/** What only the time of asking changes: usage and charge grow while a lease holds nodes. */
function settled(body: unknown): unknown {
  return JSON.parse(JSON.stringify(body), (k, v) => (k === 'usage' || k === 'charge' || k === 'usageAt' ? undefined : v));
}

async function create(token: string, spec: Record<string, unknown>): Promise<string> {
  const r = await call(token, follower.url, 'POST', '/v1/leases', spec);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.lease.id as string;
}

before(async () => {
  servers.push(startServer(serve, 's1', await freePort()));
  ({ server: leader } = await leaderOf(servers));
  servers.push(startServer(serve, 's2', await freePort()));
  [follower] = await followersOf(servers, leader);
  // Writes sent to the follower reach the leader.
  assert.equal((await call(ADMIN, follower.url, 'POST', '/v1/users', { name: 'ann' })).status, 201);
  ann = (await call(ADMIN, follower.url, 'POST', '/v1/users/ann/tokens', null)).body.token as string;
  const now = Math.floor(Date.now() / 1000);
  leases.running = await create(ADMIN, { kind: 'best-effort', nodes: 2, cpu: 1, memoryMiB: 512, duration: 3600 });
  leases.later = await create(ADMIN, { kind: 'exact', start: now + 7200, nodes: 1, cpu: 1, memoryMiB: 512, duration: 3600 });
  leases.anns = await create(ann, { kind: 'best-effort', nodes: 1, cpu: 1, memoryMiB: 256, duration: 3600 });
  // The best-effort leases run: the rows say so once the leader has deployed them.
  for (const until = Date.now() + 30_000; ;) {
    const r = await call(ADMIN, leader.url, 'GET', '/v1/leases?status=running');
    if (r.body.leases.length === 2) break;
    assert.ok(Date.now() < until, `the best-effort leases do not run: ${JSON.stringify(r.body)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
});

after(async () => {
  await stopServers(servers);
  await dropTestSchema(schema);
  rmSync(dir, { recursive: true, force: true });
});

const both = async (token: string | null, path: string, method = 'GET'): Promise<[Answer, Answer]> =>
  [await call(token, leader.url, method, path), await call(token, follower.url, method, path)];

test('a follower answers the lease reads from the store, as the leader does, with usage and charge as of the row', { timeout: 60_000 }, async () => {
  for (const path of ['/v1/leases', `/v1/leases/${leases.running}`, `/v1/leases/${leases.later}`, `/v1/leases/${leases.running}/workspaces`, `/v1/leases/${leases.running}/workspaces/1`, '/v1/leases?status=running', '/v1/leases?limit=1', `/v1/leases?owner=ann`]) {
    const [l, f] = await both(ADMIN, path);
    assert.equal(f.status, 200, `${path}: ${JSON.stringify(f.body)}`);
    assert.equal(l.status, 200);
    assert.equal(f.headers.get('x-vws-leader'), null, `${path}: the follower answered it itself, not through the leader`);
    assert.deepEqual(settled(f.body), settled(l.body), path);
  }
  const [l, f] = await both(ADMIN, `/v1/leases/${leases.running}`);
  assert.equal(f.body.usageAt, f.body.updatedAt, 'a follower counts usage up to the row');
  assert.ok(l.body.usageAt >= l.body.updatedAt, 'the leader counts it up to now');
  assert.equal(f.body.backend, l.body.backend);
  // A lease that holds nothing yet has the same figures on both.
  const [ll, fl] = await both(ADMIN, `/v1/leases/${leases.later}`);
  assert.deepEqual(fl.body.charge, ll.body.charge);
  assert.deepEqual(fl.body.usage, ll.body.usage);
  // Each caller sees what it may see: ann her own lease only.
  const [la, fa] = await both(ann, '/v1/leases');
  assert.deepEqual(fa.body.leases.map((x: { id: string }) => x.id), [leases.anns]);
  assert.deepEqual(settled(fa.body), settled(la.body));
});

test('refusals on a follower are the leader\'s: tokens, rights and queries decided on the matched route', { timeout: 60_000 }, async () => {
  const cases: Array<[string | null, string]> = [
    [null, '/v1/leases'], ['vws_not-a-token', `/v1/leases/${leases.running}`], [ann, `/v1/leases/${leases.running}`],
    [ann, `/v1/leases/${leases.running}/workspaces`], [ADMIN, '/v1/leases?limit=0'], [ADMIN, '/v1/leases?color=red'],
    [ADMIN, `/v1/leases/${leases.running}/workspaces/9`], [ADMIN, '/v1/leases/%zz'], [ADMIN, `/v1/leases/${'x'.repeat(300)}`],
    [ADMIN, '/v1/leases/nope'], [ann, '/v1/leases?owner=root'],
  ];
  for (const [token, path] of cases) {
    const [l, f] = await both(token, path);
    assert.equal(f.status, l.status, `${path} (${token?.slice(0, 8)}): follower ${f.status} ${JSON.stringify(f.body)}, leader ${l.status} ${JSON.stringify(l.body)}`);
    assert.deepEqual(f.body, l.body, path);
  }
});

test('what the store cannot answer, the follower hands to the leader', { timeout: 60_000 }, async () => {
  // A row the leader wrote before its rows carried figures (migration 11).
  await withTestClient(schema, (c) => c.query('UPDATE leases SET backend = NULL, charge = NULL WHERE id = $1', [leases.later]));
  const f = await call(ADMIN, follower.url, 'GET', `/v1/leases/${leases.later}`);
  assert.equal(f.status, 200);
  assert.equal(f.headers.get('x-vws-leader'), leader.url, 'answered through the leader');
  const list = await call(ADMIN, follower.url, 'GET', '/v1/leases');
  assert.equal(list.headers.get('x-vws-leader'), leader.url);
  assert.equal(list.body.leases.length, 3);
  // Reads of what rows do not hold (nodes, the schedule, events) are the leader's too.
  const nodes = await call(ADMIN, follower.url, 'GET', '/v1/nodes');
  assert.equal(nodes.status, 200);
  assert.equal(nodes.headers.get('x-vws-leader'), leader.url);
});

test('fuzz: any request to the follower gets the answer the leader gives', { timeout: 120_000 }, async () => {
  const token = fc.constantFrom<string | null>(ADMIN, ann, null, 'vws_bogus', 'Bearer', '');
  const id = fc.oneof(fc.constantFrom(...Object.values(leases), 'nope', '', '%00', 'a%2Fb', 'l-%ZZ', 'l-..x'), fc.stringMatching(/^[A-Za-z0-9%._~-]{0,40}$/).filter((x) => !/^(\.|%2e){1,2}$/i.test(x)));
  const query = fc.oneof(fc.constant(''), fc.dictionary(fc.constantFrom('status', 'owner', 'kind', 'limit', 'after', 'x'), fc.oneof(fc.constantFrom('running', 'ann', 'exact', '0', '1', '1001', '-1', 'NaN', ''), fc.string({ maxLength: 8 })), { maxKeys: 3 })
    .map((d) => `?${new URLSearchParams(d as Record<string, string>).toString()}`));
  const path = fc.oneof(
    fc.tuple(id, query).map(([i, q]) => `/v1/leases/${i}${q}`),
    fc.tuple(id, fc.nat(3)).map(([i, n]) => `/v1/leases/${i}/workspaces/${n}`),
    fc.tuple(id, fc.constantFrom('workspaces', 'stop', 'x')).map(([i, s]) => `/v1/leases/${i}/${s}`),
    query.map((q) => `/v1/leases${q}`),
    fc.constantFrom('/v1/leases/', '/v1//leases', '/v1/leases/quote', '/v1/whoami', '/v1/health/', '/v1/users', '/nope'),
  );
  // Writes that change nothing when sent twice: invalid bodies, and actions on leases that do not exist.
  // No dot segments (a client resolves them, and /v1/leases/../events is the event stream, which does not end).
  const method = fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'DELETE', 'POST', 'PUT', 'PATCH');
  await fc.assert(fc.asyncProperty(token, path, method, async (t, p, m) => {
    const write = m !== 'GET' && m !== 'HEAD';
    if (write && Object.values(leases).some((l) => p.includes(l))) return;
    const body = write && m !== 'DELETE' ? { kind: 'never' } : undefined;
    const go = (url: string): Promise<Answer> => call(t, url, m, p, body);
    const [l, f] = [await go(leader.url), await go(follower.url)];
    assert.ok(f.status < 500, `${m} ${p}: the follower answered ${f.status} ${JSON.stringify(f.body)}`);
    assert.equal(f.status, l.status, `${m} ${p}: follower ${f.status} ${JSON.stringify(f.body)}, leader ${l.status} ${JSON.stringify(l.body)}`);
    assert.deepEqual(settled(f.body), settled(l.body), `${m} ${p}`);
  }), { numRuns: 300, seed: Number(process.env.VWS_FUZZ_SEED ?? Date.now() % 2 ** 31) });
});

test('a body too large, sent to a follower, gets the leader\'s answer (413, or 401 without a token, 404 on no route), not a lost leader', { timeout: 60_000 }, async () => {
  const big = JSON.stringify({ kind: 'best-effort', nodes: 1, cpu: 1, memoryMiB: 256, duration: 60, userData: 'x'.repeat(3 * 1024 * 1024) });
  const post = async (url: string, token: string | null, path: string): Promise<[number, unknown]> => {
    const res = await fetch(`${url}${path}`, { method: 'POST', headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' }, body: big, signal: AbortSignal.timeout(15_000) });
    return [res.status, await res.json()];
  };
  assert.equal((await post(leader.url, ADMIN, '/v1/leases'))[0], 413);
  assert.equal((await post(leader.url, null, '/v1/leases'))[0], 401);
  for (const [token, path] of [[ADMIN, '/v1/leases'], [null, '/v1/leases'], [ADMIN, '/v1/nope'], [ann, `/v1/leases/${leases.running}/stop`]] as const) {
    assert.deepEqual(await post(follower.url, token, path), await post(leader.url, token, path), `${path} (${token?.slice(0, 8)})`);
  }
  // And the follower goes on forwarding.
  assert.equal((await call(ADMIN, follower.url, 'GET', '/v1/nodes')).status, 200);
});

test('with the leader gone and none elected yet, a follower still answers reads, and refuses writes saying so', { timeout: 60_000 }, async () => {
  leader.child.kill('SIGKILL');
  await leader.exited;
  const read = await call(ADMIN, follower.url, 'GET', `/v1/leases/${leases.running}`);
  const write = await call(ADMIN, follower.url, 'POST', '/v1/leases', { kind: 'best-effort', nodes: 1, cpu: 1, memoryMiB: 256, duration: 60 });
  // The follower has not taken over yet: the term runs 4 s after the last renewal.
  assert.equal((await call(null, follower.url, 'GET', '/v1/health')).body.role, 'follower');
  assert.equal(read.status, 200, JSON.stringify(read.body));
  assert.equal(read.body.id, leases.running);
  assert.equal(write.status, 503, JSON.stringify(write.body));
  assert.equal(write.body.code, 'no-leader');
  assert.ok(Number(write.headers.get('retry-after')) > 0);
});
