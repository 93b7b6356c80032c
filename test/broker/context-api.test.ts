// The context broker's HTTP protocol against a real service on a real store: the whole exchange
// of a head and two workers (on SQLite and on PostgreSQL), hostile requests refused with a clear
// reason and nothing changed, step timeouts with their own reasons, and a restart in the middle.

import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { describe, test } from 'node:test';
import { STORE_KINDS } from '../support/test-stores.ts';
import { contextWorld, headAndWorkers, hostKey, type ContextWorld } from './context-world.ts';

async function session(w: ContextWorld, lease: string, member: string, secret: string): Promise<string> {
  const res = await w.call(null, 'POST', '/v1/context/exchange', { lease, member, secret });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.session;
}

const report = (w: ContextWorld, s: string, host: string, entries: Record<string, string> = {}, ip = '10.1.0.2') =>
  w.call(s, 'POST', '/v1/context/report', { ip, hostname: host, hostKey: hostKey(host), entries });

async function rowsOf(w: ContextWorld, lease: string): Promise<string> {
  return JSON.stringify(await w.store.contextMembers(lease));
}

for (const kind of STORE_KINDS) {
  describe(`context broker over HTTP (${kind})`, () => {
    test('a head and two workers: each gets its context once all reported, signed, and the owner sees it complete', async () => {
      const w = await contextWorld(kind);
      try {
        const lease = await w.aliceLease();
        const secrets = await w.register(headAndWorkers(lease));
        const s = new Map<string, string>();
        for (const [m, secret] of secrets) s.set(m, await session(w, lease, m, secret));
        assert.equal((await report(w, s.get('head-0')!, 'head-0', { 'nfs-export': '10.1.0.1:/srv' }, '10.1.0.1')).status, 200);
        assert.equal((await report(w, s.get('worker-0')!, 'worker-0', {}, '10.1.0.2')).status, 200);
        const early = await w.call(s.get('worker-0')!, 'GET', '/v1/context');
        assert.equal(early.status, 202);
        assert.deepEqual(early.body, { status: 'pending', waitsFor: ['worker.hostname'] });
        let view = (await w.call(w.tokens.alice, 'GET', `/v1/leases/${lease}/context`)).body;
        assert.equal(view.status, 'pending');
        assert.deepEqual(view.roles.map((r: { name: string; reported: number }) => [r.name, r.reported]), [['head', 1], ['worker', 1]]);
        assert.deepEqual(view.roles[1].members.map((m: { step: string }) => m.step), ['context', 'report']);
        assert.equal((await report(w, s.get('worker-1')!, 'worker-1', {}, '10.1.0.3')).status, 200);
        const key = createPublicKey(w.broker.publicKeyPem);
        for (const [m, token] of s) {
          const res = await w.call(token, 'GET', '/v1/context');
          assert.equal(res.status, 200);
          assert.ok(verify(null, res.raw, key, Buffer.from(String(res.headers['x-vws-signature']), 'base64')), `${m}: signature over the exact body`);
          const ctx = JSON.parse(res.raw.toString());
          assert.equal(ctx.member, m);
          assert.deepEqual(ctx.members.map((x: { hostname: string; ip: string }) => `${x.hostname}=${x.ip}`), ['head-0=10.1.0.1', 'worker-0=10.1.0.2', 'worker-1=10.1.0.3']);
          assert.deepEqual(ctx.ownerKeys, ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwner alice@laptop']);
          if (m.startsWith('worker')) {
            assert.deepEqual(ctx.entries['head.nfs-export'], [{ index: 0, value: '10.1.0.1:/srv' }]);
            assert.deepEqual(ctx.files.map((f: { path: string; mode: number }) => [f.path, f.mode]), [['/etc/vws/secret.conf', 0o600]]);
          } else assert.deepEqual(ctx.entries, {});
          assert.equal((await w.call(token, 'POST', '/v1/context/done', { ok: true })).status, 200);
        }
        view = (await w.call(w.tokens.alice, 'GET', `/v1/leases/${lease}/context`)).body;
        assert.equal(view.status, 'complete');
        assert.equal((await w.call(w.tokens.admin, 'GET', `/v1/leases/${lease}/context`)).status, 200);
        const bob = await w.call(w.tokens.bob, 'GET', `/v1/leases/${lease}/context`);
        assert.equal(bob.status, 404, 'another user does not learn the lease exists');
        const plain = await w.call(w.tokens.alice, 'GET', `/v1/leases/${await w.aliceLease()}/context`);
        assert.equal(plain.status, 404);
        assert.match(plain.body.message, /no context of lease/);
      } finally {
        await w.close();
      }
    });
  });
}

test('hostile requests: wrong and reused secrets, other clusters, user tokens, bad bodies: refused with why, nothing changed', async () => {
  const w = await contextWorld('sqlite');
  try {
    const a = await w.aliceLease();
    const b = await w.aliceLease();
    const sa = await w.register(headAndWorkers(a));
    const sb = await w.register(headAndWorkers(b));
    const before = await rowsOf(w, a);
    const wrong = await w.call(null, 'POST', '/v1/context/exchange', { lease: a, member: 'head-0', secret: sb.get('head-0') });
    assert.equal(wrong.status, 401);
    assert.match(wrong.body.message, /holds that secret/);
    const crossed = await w.call(null, 'POST', '/v1/context/exchange', { lease: b, member: 'worker-0', secret: sa.get('worker-0') });
    assert.equal(crossed.status, 401);
    assert.equal(await rowsOf(w, a), before);
    const head = await session(w, a, 'head-0', sa.get('head-0')!);
    const again = await w.call(null, 'POST', '/v1/context/exchange', { lease: a, member: 'head-0', secret: sa.get('head-0') });
    assert.equal(again.status, 401);
    assert.match(again.body.message, /already exchanged .* one session only/);
    const afterExchange = await rowsOf(w, a);
    // Guest sessions open no user route, user tokens no guest route.
    assert.equal((await w.call(head, 'GET', `/v1/leases/${a}`)).status, 401);
    assert.equal((await w.call(head, 'GET', `/v1/leases/${a}/context`)).status, 401);
    assert.equal((await w.call(w.tokens.alice, 'GET', '/v1/context')).status, 401);
    assert.equal((await w.call(w.tokens.admin, 'POST', '/v1/context/report', { ip: '10.0.0.1', hostname: 'head-0', hostKey: hostKey('h'), entries: {} })).status, 401);
    assert.equal((await w.call('vwsctx_forged', 'GET', '/v1/context')).status, 401);
    const bad: Array<[unknown, RegExp]> = [
      [{ ip: '10.0.0.1', hostname: 'head-0', hostKey: hostKey('h'), entries: { 'nfs-export': '/srv', 'smtp': 'x' } }, /does not declare 'smtp'/],
      [{ ip: '10.0.0.1', hostname: 'head-0', hostKey: hostKey('h'), entries: {} }, /provides 'nfs-export': report it too/],
      [{ ip: '10.0.0.1', hostname: 'worker-0', hostKey: hostKey('h'), entries: { 'nfs-export': '/srv' } }, /not this member's host name/],
      [{ ip: '10.0.0.1', hostname: 'head-0', hostKey: hostKey('h'), entries: { 'nfs-export': 'x'.repeat(5000) } }, /entries.nfs-export/],
      [{ ip: '10.0.0.1; rm -rf /', hostname: 'head-0', hostKey: hostKey('h'), entries: { 'nfs-export': '/srv' } }, /body.ip/],
      [{ ip: '10.0.0.1', hostname: 'head-0\n10.6.6.6 evil', hostKey: hostKey('h'), entries: { 'nfs-export': '/srv' } }, /body.hostname/],
      [{ ip: '10.0.0.1', hostname: 'head-0', hostKey: 'not a key', entries: { 'nfs-export': '/srv' } }, /body.hostKey/],
      [{ ip: '10.0.0.1', hostname: 'head-0', hostKey: hostKey('h'), entries: { 'nfs-export': 'a\nb' } }, /entries.nfs-export/],
      [{ ip: '10.0.0.1', hostname: 'head-0', hostKey: hostKey('h'), entries: { 'nfs-export': '/srv' }, extra: 1 }, /unknown field 'extra'/],
      [{ ip: '1:2:3::4::5', hostname: 'head-0', hostKey: hostKey('h'), entries: { 'nfs-export': '/srv' } }, /not an IPv4 or IPv6 address/],
      [{ ip: 10, hostname: 'head-0', hostKey: hostKey('h'), entries: {} }, /body.ip/],
      [[], /body/],
    ];
    for (const [body, message] of bad) {
      const res = await w.call(head, 'POST', '/v1/context/report', body);
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
      assert.match(res.body.message, message);
    }
    const big = await w.app.inject({ method: 'POST', url: '/v1/context/report', headers: { authorization: `Bearer ${head}`, 'content-type': 'application/json' }, payload: `{"ip":"${'1'.repeat(2 * 1024 * 1024)}"}` });
    assert.equal(big.statusCode, 413);
    const broken = await w.app.inject({ method: 'POST', url: '/v1/context/report', headers: { authorization: `Bearer ${head}`, 'content-type': 'application/json' }, payload: '{"ip":' });
    assert.equal(broken.statusCode, 400);
    assert.equal((await w.call(head, 'GET', '/v1/context')).status, 409, 'no context before its own report');
    assert.equal((await w.call(head, 'POST', '/v1/context/done', { ok: true })).status, 409);
    assert.equal((await w.call(head, 'POST', '/v1/context/done', { ok: false })).status, 400, 'a failure needs its reason');
    assert.equal(await rowsOf(w, a), afterExchange, 'every refusal left the store as it was');
    assert.equal((await report(w, head, 'head-0', { 'nfs-export': '/srv' })).status, 200);
    assert.equal((await report(w, head, 'head-0', { 'nfs-export': '/srv' })).status, 200, 'the same report again (a lost answer) is taken');
    const changed = await report(w, head, 'head-0', { 'nfs-export': '/other' });
    // A member whose address the service knows must report that one.
    const c = await w.aliceLease();
    const known = headAndWorkers(c, 1);
    known.members = known.members.map((m, i) => ({ ...m, ip: `10.3.0.${i + 1}` }));
    const sc = await w.register(known);
    const kw = await session(w, c, 'worker-0', sc.get('worker-0')!);
    const spoof = await report(w, kw, 'worker-0', {}, '10.3.0.1');
    assert.equal(spoof.status, 400);
    assert.match(spoof.body.message, /not the address the service gave this member \(10\.3\.0\.2\)/);
    assert.equal((await report(w, kw, 'worker-0', {}, '10.3.0.2')).status, 200);
    assert.equal(changed.status, 409);
    assert.match(changed.body.message, /reports once/);
    const doc = (await w.call(w.tokens.alice, 'GET', '/v1/openapi.json')).body;
    assert.deepEqual(
      ['/v1/context/exchange', '/v1/context/report', '/v1/context', '/v1/context/done', '/v1/context/agent', '/v1/leases/{id}/context'].map((p) => Object.values(doc.paths[p]).map((o) => (o as { 'x-vws-role': string })['x-vws-role'])[0]),
      ['public', 'guest', 'guest', 'guest', 'public', 'user'],
      'the document says who may call each context route',
    );
    // The agent is served to anyone: it is shipped code, and holds nothing secret.
    const agent = await w.call(null, 'GET', '/v1/context/agent');
    assert.equal(agent.status, 200);
    assert.match(String(agent.body), /^#!\/usr\/bin\/env python3/);
  } finally {
    await w.close();
  }
});

test('a worker that never reports fails its role after the report timeout, and the waiting members fail naming it', async () => {
  const w = await contextWorld('sqlite');
  try {
    const lease = await w.aliceLease();
    const secrets = await w.register(headAndWorkers(lease));
    const s = new Map<string, string>();
    for (const [m, secret] of secrets) s.set(m, await session(w, lease, m, secret));
    await report(w, s.get('head-0')!, 'head-0', { 'nfs-export': '/srv' });
    await report(w, s.get('worker-0')!, 'worker-0');
    w.clock.advance(299);
    assert.equal((await w.call(w.tokens.alice, 'GET', `/v1/leases/${lease}/context`)).body.status, 'pending');
    w.clock.advance(1);
    // The timer's catch-up runs on the broker's queue; a request behind it sees its result.
    const worker = await w.call(s.get('worker-0')!, 'GET', '/v1/context');
    assert.equal(worker.status, 409);
    assert.match(worker.body.message, /worker-0 waits for worker.hostname, which can no longer be met: role 'worker' failed \(worker-1 did not report within 300 s/);
    const view = (await w.call(w.tokens.alice, 'GET', `/v1/leases/${lease}/context`)).body;
    assert.equal(view.status, 'failed');
    assert.equal(view.reason, "role 'worker' failed: worker-1 did not report within 300 s of exchanging its secret");
  } finally {
    await w.close();
  }
});

for (const kind of STORE_KINDS) test(`a restart of the service in the middle (${kind}): sessions, reports and timers carry on, and the context completes`, async () => {
  const w = await contextWorld(kind);
  try {
    const lease = await w.aliceLease();
    const secrets = await w.register(headAndWorkers(lease));
    const s = new Map<string, string>();
    for (const [m, secret] of secrets) s.set(m, await session(w, lease, m, secret));
    await report(w, s.get('head-0')!, 'head-0', { 'nfs-export': '/srv' });
    const key = w.broker.publicKeyPem;
    await w.restart();
    assert.equal(w.broker.publicKeyPem, key, 'the same key: the seeds carry it');
    assert.equal((await w.call(null, 'POST', '/v1/context/exchange', { lease, member: 'head-0', secret: secrets.get('head-0') })).status, 401, 'a used secret stays used');
    await report(w, s.get('worker-0')!, 'worker-0');
    await report(w, s.get('worker-1')!, 'worker-1');
    for (const token of s.values()) {
      assert.equal((await w.call(token, 'GET', '/v1/context')).status, 200);
      assert.equal((await w.call(token, 'POST', '/v1/context/done', { ok: true })).status, 200);
    }
    assert.equal((await w.call(w.tokens.alice, 'GET', `/v1/leases/${lease}/context`)).body.status, 'complete');
    await w.restart();
    assert.equal((await w.call(w.tokens.alice, 'GET', `/v1/leases/${lease}/context`)).body.status, 'complete');
  } finally {
    await w.close();
  }
});
