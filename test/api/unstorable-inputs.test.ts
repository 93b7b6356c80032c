// Nothing the store cannot hold reaches the scheduler (issue 14, finding 3): on PostgreSQL a
// "start": 1e300 was heard by the scheduler, failed its BIGINT write, and from then on every
// request of every user answered 500 until a restart. Each such value is refused before the
// scheduler hears it, by the API's schemas and again by the service itself, on both stores,
// and the other users' requests keep answering.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { T0, apiWorld, lease, type ApiWorld } from './api-world.ts';
import { STORE_KINDS } from '../support/test-stores.ts';
import type { ClusterRole, LeaseRequest } from '../../src/core/types.ts';

const ROLE: ClusterRole = { name: 'head', count: 1, perNode: { cpu: 1, memoryMiB: 512, diskMiB: 0 }, networks: ['private'], provides: [], requires: [] };
import type { Input } from '../../src/control/inputs.ts';

/** bob's requests still answer, whatever alice or the administrator sent before. */
async function othersStillServed(w: ApiWorld, after: string): Promise<void> {
  const made = await w.call(w.tokens.bob, 'POST', '/v1/leases', lease({ duration: 60 }));
  assert.equal(made.status, 201, `bob's lease after ${after}: ${JSON.stringify(made.body)}`);
  assert.equal((await w.call(w.tokens.bob, 'GET', '/v1/leases')).status, 200, `bob's list after ${after}`);
}

/** A body sent as its raw text: 1e400 is JSON (it reads as Infinity), but JSON.stringify cannot write it. */
async function rawPost(w: ApiWorld, token: string, url: string, text: string) {
  const res = await w.app.inject({ method: 'POST', url, payload: text, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
  return { status: res.statusCode, body: res.json() };
}

for (const kind of STORE_KINDS) {
  test(`${kind}: numbers and names the store cannot hold are refused at the API, and the service keeps serving everyone`, async () => {
    const w = await apiWorld(2, undefined, kind);
    try {
      const exact = (over: Record<string, unknown>) => lease({ kind: 'exact', start: T0 + 3600, ...over });
      const cases: Array<[string, string, string, unknown, string]> = [
        ['start 1e300', w.tokens.alice, '/v1/leases', exact({ start: 1e300 }), 'body.start'],
        ['a hold of ttl 1e300', w.tokens.alice, '/v1/leases/hold', { lease: exact({}), ttl: 1e300 }, 'body.ttl'],
        ['a node of cpu 1e300', w.tokens.admin, '/v1/nodes', { id: 'big', cpu: 1e300, memoryMiB: 1024 }, 'body.cpu'],
        ['a node of disk 1e300', w.tokens.admin, '/v1/nodes', { id: 'big', cpu: 1, memoryMiB: 1024, diskMiB: 1e300 }, 'body.diskMiB'],
        ['a node named ../../x', w.tokens.admin, '/v1/nodes', { id: '../../x', cpu: 1, memoryMiB: 1024 }, 'body.id'],
        ['a token for 1e300 s', w.tokens.alice, '/v1/users/alice/tokens', { expiresIn: 1e300 }, 'body.expiresIn'],
        // An administrator may share a lease with any group: the name still has to be one the store holds.
        ['a group name with NUL', w.tokens.admin, '/v1/leases', lease({ group: 'lab\u0000' }), 'body.group'],
      ];
      for (const [what, token, url, body, path] of cases) {
        const res = await w.call(token, 'POST', url, body);
        assert.deepEqual([res.status, res.body.code, res.body.path], [400, 'invalid-request', path], `${what}: ${JSON.stringify(res.body)}`);
        await othersStillServed(w, what);
      }
      const infinite = await rawPost(w, w.tokens.alice, '/v1/leases', JSON.stringify(exact({})).replace(/"start":\d+/, '"start":1e400'));
      assert.deepEqual([infinite.status, infinite.body.path], [400, 'body.start'], JSON.stringify(infinite.body));
      await othersStillServed(w, 'start 1e400');
      const id = (await w.call(w.tokens.bob, 'GET', '/v1/leases')).body.leases[0].id;
      const moved = await w.call(w.tokens.admin, 'POST', `/v1/leases/${id}/migrate`, { nodes: ['n2\u0000'] });
      assert.deepEqual([moved.status, moved.body.path], [400, 'body.nodes.0'], JSON.stringify(moved.body));
      await othersStillServed(w, 'a migration to a node name with NUL');
      assert.deepEqual((await w.store.listNodes()).map((n) => n.id), ['n1', 'n2']);
      assert.ok((await w.store.listLeases({ limit: 100 })).every((l) => l.owner === 'bob'), 'only bob\'s leases were made');
    } finally {
      await w.close();
    }
  });

  test(`${kind}: the service itself refuses what the store cannot hold before its scheduler hears it (inputs that come from elsewhere than the API)`, async () => {
    const w = await apiWorld(1, undefined, kind);
    try {
      const request = (over: Partial<LeaseRequest>): LeaseRequest => ({
        id: `l-direct-${Math.random().toString(36).slice(2)}`, kind: 'exact', arrival: 0, requestedStart: T0 + 3600, duration: 60, nodes: 1,
        perNode: { cpu: 1, memoryMiB: 512, diskMiB: 0 }, preemptible: false, ...over,
      });
      const refusals = [
        ['start 1e300', await w.service.create('alice', null, request({ requestedStart: 1e300 })), 'body.start'],
        ['duration Infinity', await w.service.create('alice', null, request({ duration: Infinity })), 'body.duration'],
        ['a request id with NUL', await w.service.create('alice', null, request({ id: 'l-\u0000' })), 'id'],
        ['hold ttl 1e300', await w.service.hold('alice', null, request({}), 1e300), 'body.ttl'],
        ['a role of count Infinity', await w.service.create('alice', null, request({ roles: [{ ...ROLE, count: Infinity }] })), 'body.roles.0.count'],
        ['a role name with NUL', await w.service.create('alice', null, request({ roles: [{ ...ROLE, name: 'h\u0000' }] })), 'body.roles.0.name'],
        ['a role of memory 1e300', await w.service.create('alice', null, request({ roles: [{ ...ROLE, perNode: { cpu: 1, memoryMiB: 1e300, diskMiB: 0 } }] })), 'body.roles.0.memoryMiB'],
        ['user-data with a lone surrogate', await w.service.create('alice', null, request({ userData: '\ud800' })), 'body.userData'],
        ['17 ssh keys', await w.service.create('alice', null, request({ sshPublicKeys: Array.from({ length: 17 }, () => 'ssh-ed25519 AAAA') })), 'body.sshPublicKeys'],
        ['node without diskMiB', await w.service.pool.addNode({ id: 'n9', cpu: 1, memoryMiB: 1024 } as never), 'body.diskMiB'],
        ['node named ../../x', await w.service.pool.addNode({ id: '../../x', cpu: 1, memoryMiB: 1024, diskMiB: 0 }), 'body.id'],
        ['node of cpu -1', await w.service.pool.addNode({ id: 'n9', cpu: -1, memoryMiB: 1024, diskMiB: 0 }), 'body.cpu'],
        ['a suspend rate of 1e-300 MiB/s', await w.service.pool.setMeasuredCosts({ suspendRateMBps: 1e-300 }), 'suspendRateMBps'],
        ['a boot of 1e300 s', await w.service.pool.setMeasuredCosts({ bootSeconds: 1e300 }), 'bootSeconds'],
      ] as const;
      for (const [what, r, path] of refusals) {
        assert.equal(r.ok, false, what);
        if (!r.ok) assert.deepEqual([r.code, (r as { path?: string }).path], ['invalid-request', path], `${what}: ${r.message}`);
        await othersStillServed(w, what);
      }
      // A node id the pool never had is not-found without a store lookup (PostgreSQL cannot look up a NUL).
      for (const r of [await w.service.pool.drainNode('n1\u0000'), await w.service.pool.removeNode('n1\u0000')]) assert.deepEqual([r.ok, !r.ok && r.code], [false, 'not-found']);
      assert.deepEqual((await w.store.listNodes()).map((n) => n.id), ['n1']);
      const logged = (await w.store.inputs()).map((i) => i.data as Input).filter((i) => i.type !== 'tick');
      const said = logged.map((i) => (i.type === 'submit' ? `submit by ${i.owner}` : i.type === 'node-add' ? `node-add ${i.node.id}` : i.type));
      assert.deepEqual(said, ['node-add n1', ...refusals.map(() => 'submit by bob')], 'no refused input was logged');
    } finally {
      await w.close();
    }
  });

  test(`${kind}: an id the store cannot look up, sent with other users' requests, stops nothing`, async () => {
    const w = await apiWorld(2, undefined, kind);
    try {
      // Requests that arrive together share one store transaction: a lookup that fails there fails them all, and stops the service if they had logged inputs.
      for (const [method, url] of [['POST', '/v1/nodes/n1%00/drain'], ['DELETE', '/v1/nodes/n1%00'], ['POST', '/v1/leases/l%00/commit'], ['DELETE', '/v1/leases/l%00']]) {
        const [bob, odd] = await Promise.all([w.call(w.tokens.bob, 'POST', '/v1/leases', lease({ duration: 60 })), w.call(w.tokens.admin, method, url)]);
        assert.equal(bob.status, 201, `bob's lease beside ${method} ${url}: ${JSON.stringify(bob.body)}`);
        assert.deepEqual([odd.status, odd.body.code], [400, 'invalid-request'], `${method} ${url}: ${JSON.stringify(odd.body)}`);
        await othersStillServed(w, `${method} ${url}`);
      }
    } finally {
      await w.close();
    }
  });
}
