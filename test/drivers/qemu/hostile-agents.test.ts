// An agent that says what the service does not take is refused alone (issue 14, finding 3): an
// agent's hello without diskMiB stopped the whole service (a NOT NULL write after the scheduler
// had heard the node), and hello fields reached the database unchecked (id "../../x", cpu -1).
// Here bare WebSocket clients with an administrator's token send broken and hostile frames to a
// service on SQLite and on PostgreSQL, while a well-behaved agent serves the users' leases: each
// is closed with a reason naming the field, adds no node, and nothing else stops.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { issueToken } from '../../../src/api/auth.ts';
import { MemoryHost, T0, poolWorld, type PoolWorld, until } from '../../control/support/agent-pool-world.ts';
import { STORE_KINDS } from '../../support/test-stores.ts';
import { RawAgent, helloOf } from './raw-agent.ts';

/** The service with a well-behaved agent on node 'good' and a user, alice, with a token. */
async function servedWorld(kind: (typeof STORE_KINDS)[number]) {
  const w = await poolWorld({ store: kind });
  await w.store.putUser({ id: 'alice', name: 'alice', isAdmin: false, createdAt: T0 });
  const alice = (await issueToken(w.store, 'alice', 't', T0)).token;
  const good = new MemoryHost('good', { cpu: 64, memoryMiB: 64 * 1024 });
  await w.agent(good).connected();
  return { w, alice, good };
}

/** The good agent still answers, and alice's lease request is still taken. */
async function stillServing(w: PoolWorld, alice: string, after: string): Promise<void> {
  assert.deepEqual(await w.pool.hub.call('good', 'status', {}).then((vms) => Array.isArray(vms)), true, `the good agent after ${after}`);
  const res = await fetch(`${w.server}/v1/leases`, {
    method: 'POST', headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'best-effort', nodes: 1, cpu: 1, memoryMiB: 256, duration: 3600 }),
  });
  assert.equal(res.status, 201, `alice's lease after ${after}: ${await res.text()}`);
}

const nodeIds = async (w: PoolWorld): Promise<string[]> => (await w.store.listNodes()).map((n) => n.id).sort();

const BAD_HELLOS: Array<[string, unknown, RegExp]> = [
  ['a hello without diskMiB', helloOf('h1', (h) => delete h.node.diskMiB), /^invalid hello: hello\.node\.diskMiB is missing/],
  ['a node id ../../x', helloOf('../../x'), /^invalid hello: hello\.node\.name must be 1 to 63 letters/],
  ['a node named @depot, where parked VMs are', helloOf('@depot'), /^invalid hello: hello\.node\.name must be 1 to 63 letters/],
  ['a depot id that is a path', helloOf('h1', (h) => (h.node.depot = '../../depot')), /^invalid hello: hello\.node\.depot must be 32 lowercase hex digits/],
  ['a VM on a node of another name than @depot', helloOf('h1', (h) => h.vms.push({ id: 'l-1/0', node: '@depot2', state: 'suspended', ip: null, console: null })), /^invalid hello: hello\.vms\.0\.node must be a node name or @depot/],
  ['cpu -1', helloOf('h1', (h) => (h.node.cpu = -1)), /^invalid hello: hello\.node\.cpu must be > 0, got -1/],
  ['cpu 1e300', helloOf('h1', (h) => (h.node.cpu = 1e300)), /^invalid hello: hello\.node\.cpu must be <= 1024, got 1e\+300/],
  ['cpu "2"', helloOf('h1', (h) => (h.node.cpu = '2')), /^invalid hello: hello\.node\.cpu must be number, got "2"/],
  ['an extra field in the node', helloOf('h1', (h) => (h.node.gpu = 1)), /^invalid hello: hello\.node\.gpu is not a field the service knows/],
  ['an extra field in the hello', helloOf('h1', (h) => (h.admin = true)), /^invalid hello: hello\.admin is not a field the service knows/],
  ['a VM whose detail holds NUL', helloOf('h1', (h) => h.vms.push({ id: 'l-1/0', node: 'h1', state: 'running', ip: null, console: null, detail: 'x\u0000' })), /^invalid hello: hello\.vms\.0\.detail must be/],
  ['memory of 2^60 MiB', helloOf('h1', (h) => (h.node.memoryMiB = 2 ** 60)), /^invalid hello: hello\.node\.memoryMiB must be <= /],
  ['a text frame that is not JSON', 'héllo ✓ '.repeat(60), /^invalid hello: a frame that is not JSON/],
  ['a binary frame', Buffer.from(JSON.stringify(helloOf('h1'))), /^invalid hello: a binary frame/],
  ['a name of a million characters', helloOf('n'.repeat(1 << 20)), /^invalid hello: hello\.node\.name must be 1 to 63 letters/],
  ['another protocol version', helloOf('h1', (h) => (h.version = 2)), /^invalid hello: hello\.version: agent protocol 2 is not 1/],
  ['a VM report before any hello', { type: 'vm', vm: { id: 'l-1/0', node: 'h1', state: 'running', ip: null, console: null } }, /^invalid hello: a vm message before its hello/],
  ['a JSON array', [1, 2, 3], /^invalid hello: a frame whose type is not one of/],
];

for (const kind of STORE_KINDS) {
  test(`${kind}: an agent whose hello the schemas refuse is closed with the field at fault, adds no node, and stops nothing`, async () => {
    const { w, alice, good } = await servedWorld(kind);
    try {
      for (const [what, frame, reason] of BAD_HELLOS) {
        const agent = await RawAgent.dial(w.server, w.admin);
        agent.send(frame);
        const closed = await agent.closed;
        assert.equal(closed.code, 4001, `${what}: ${closed.reason}`);
        assert.match(closed.reason, reason, what);
        assert.ok(Buffer.byteLength(closed.reason) <= 123, what);
        assert.match(agent.refusal() ?? '', /^the service refused the hello: .*(the node was not added or changed; correct what the agent reports|run the same vws version)/, what);
        assert.deepEqual(await nodeIds(w), ['good'], `${what} added no node`);
        await stillServing(w, alice, what);
      }
      // A frame beyond the channel's size limit is refused by the socket itself.
      const big = await RawAgent.dial(w.server, w.admin);
      big.send(JSON.stringify(helloOf('x'.repeat(17 << 20))));
      assert.equal((await big.closed).code, 1009);
      await stillServing(w, alice, 'a 17 MiB frame');
      assert.deepEqual(await nodeIds(w), ['good']);
      assert.ok(w.logs.some((l) => /^refused the agent at 127\.0\.0\.1 at hello: it sent hello\.node\.diskMiB is missing/.test(l)), w.logs.join('\n'));
      // Every lease alice made runs on the good node.
      await until('alice\'s leases running on the good node', () => (good.vms.size === BAD_HELLOS.length + 1 ? true : undefined));
    } finally {
      await w.close();
    }
  });

  test(`${kind}: a welcomed agent that sends an invalid message is disconnected alone; odd but valid ones do not throw`, async () => {
    const { w, alice } = await servedWorld(kind);
    try {
      const agent = await RawAgent.dial(w.server, w.admin);
      agent.send(helloOf('odd'));
      assert.ok(await agent.next((m) => m.type === 'welcome'), `welcomed: ${JSON.stringify(agent.heard)}`);
      assert.deepEqual(await nodeIds(w), ['good', 'odd']);
      // An answer to a call nobody made, a VM the node does not run, a timing: heard, and nothing breaks.
      agent.send({ type: 'result', id: 987_654, ok: true, value: null });
      agent.send({ type: 'result', id: 987_655, ok: false, error: { message: 'no such call', refused: true } });
      agent.send({ type: 'vm', vm: { id: 'l-nobody/0', node: 'odd', state: 'failed', ip: null, console: null, detail: 'never ran here' } });
      agent.send({ type: 'vm', vm: { id: 'l-elsewhere/3', node: 'good', state: 'running', ip: '10.77.0.9', console: null } });
      agent.send({ type: 'timing', timing: { op: 'boot', memoryMiB: 256, ms: 0 } });
      // A call answered with a value the call does not answer: the call fails, the agent is disconnected.
      const asked = w.pool.hub.call('odd', 'status', {});
      const call = await agent.next((m) => m.type === 'call' && m.op === 'status');
      agent.send({ type: 'result', id: call.id, ok: true, value: [{ id: '../../x', node: 'odd', state: 'running', ip: null, console: null }] });
      await assert.rejects(asked, /the agent of node 'odd' sent result\.value \(status\)\.0\.id must be a lease id, "\/" and the index of the VM in the lease/);
      const closed = await agent.closed;
      assert.equal(closed.code, 4003);
      assert.match(closed.reason, /^invalid message: result\.value \(status\)\.0\.id must be/);
      assert.deepEqual(w.pool.hub.connectedNodes(), ['good']);
      await stillServing(w, alice, 'an invalid answer');

      // The same for a report the agent sends by itself.
      const other = await RawAgent.dial(w.server, w.admin);
      other.send(helloOf('odd2'));
      assert.ok(await other.next((m) => m.type === 'welcome'), `welcomed: ${JSON.stringify(other.heard)}`);
      other.send({ type: 'timing', timing: { op: 'boot', memoryMiB: 256, ms: 1e300 } });
      const second = await other.closed;
      assert.deepEqual([second.code, second.reason], [4003, `invalid message: timing.timing.ms must be <= 31622400000, got 1e+300: run the same vws version on the node as the service`.slice(0, 123)]);
      assert.match(other.refusal() ?? '', /^the agent of node 'odd2' sent timing\.timing\.ms must be <= 31622400000/);
      assert.deepEqual(w.pool.hub.connectedNodes(), ['good']);
      await stillServing(w, alice, 'an invalid timing');
    } finally {
      await w.close();
    }
  });
}
