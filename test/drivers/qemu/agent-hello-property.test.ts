// Whatever an agent sends as its first frame, the service goes on and only a valid hello adds a
// node (issue 14, finding 3): random JSON values, and valid hellos with one field replaced by any
// JSON value, dropped, or joined by a field the protocol does not have, sent over real WebSockets
// to a service on SQLite and on PostgreSQL. Whether a hello is valid is decided here from the
// protocol's rules, not by the service's schemas.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { issueToken } from '../../../src/api/auth.ts';
import { MOST_CPUS, MOST_DISK_MIB, MOST_MEMORY_MIB, NODE_ID_PATTERN } from '../../../src/core/limits.ts';
import { MemoryHost, T0, poolWorld } from '../../control/support/agent-pool-world.ts';
import { STORE_KINDS } from '../../support/test-stores.ts';
import { RawAgent, helloOf } from './raw-agent.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- hellos bent out of shape on purpose
type Json = any;

const WELL_BEHAVED = 'well-behaved-agent-node';
const nodeId = new RegExp(NODE_ID_PATTERN);
const whole = (v: unknown, min: number, max: number): boolean => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

/** What each field of a hello may hold, as the protocol says (protocol.ts and core/limits.ts). */
const FIELDS: Record<string, (v: unknown) => boolean> = {
  'type': (v) => v === 'hello',
  'version': (v) => v === 1,
  'vms': (v) => Array.isArray(v) && v.length === 0,
  'node': () => false,
  'node.name': (v) => typeof v === 'string' && nodeId.test(v),
  'node.cpu': (v) => typeof v === 'number' && v > 0 && v <= MOST_CPUS,
  'node.memoryMiB': (v) => whole(v, 1, MOST_MEMORY_MIB),
  'node.diskMiB': (v) => whole(v, 0, MOST_DISK_MIB),
  'node.transferAddress': (v) => typeof v === 'string' && /^[A-Za-z0-9.:_%[\]-]{1,255}$/.test(v),
  'node.migrationAddress': (v) => typeof v === 'string' && /^[A-Za-z0-9.:_%[\]-]{1,255}$/.test(v),
  'node.depot': (v) => typeof v === 'string' && /^[0-9a-f]{32}$/.test(v),
  // A pilot's job id is refused by any value here: this service runs no pilots (a pilot's hello is tested with real Slurm, test/slurm).
  'node.pilot': () => false,
};
/** Fields a hello may leave out. */
const OPTIONAL = new Set(['node.depot', 'node.pilot']);

const anyValue = fc.oneof(fc.jsonValue(), fc.constantFrom<Json>(0, -0, -1, 0.5, 1, 1024, 1024.5, 1025, 2 ** 53, 1e300, '2', '', '../../x', 'a\u0000b', null, true, [], {}, '@depot', 'F'.repeat(32), '0'.repeat(31), 'a'.repeat(32), '4711', '0', '1'.repeat(20)));

type Change = { kind: 'none' } | { kind: 'set' | 'drop'; path: string; value?: Json } | { kind: 'extra'; inNode: boolean; key: string; value: Json };

const change: fc.Arbitrary<Change> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('set' as const), path: fc.constantFrom(...Object.keys(FIELDS)), value: anyValue }),
  fc.record({ kind: fc.constant('drop' as const), path: fc.constantFrom(...Object.keys(FIELDS)) }),
  fc.record({ kind: fc.constant('extra' as const), inNode: fc.boolean(), key: fc.oneof(fc.string({ minLength: 1, maxLength: 8 }), fc.constant('__proto__')), value: anyValue }),
);

/** The frame a change makes of a valid hello for `name`, and whether the hello stays valid. */
function bent(name: string, c: Change): { frame: Json; valid: boolean; name: unknown } {
  const hello = helloOf(name);
  if (c.kind === 'none') return { frame: hello, valid: true, name };
  if (c.kind === 'extra') {
    const into = c.inNode ? hello.node : hello;
    // Own and enumerable, as JSON.parse makes it on the other side (even for __proto__).
    if (Object.hasOwn(into, c.key)) return { frame: hello, valid: true, name };
    Object.defineProperty(into, c.key, { value: c.value, enumerable: true, writable: true, configurable: true });
    return { frame: hello, valid: false, name };
  }
  const [head, field] = c.path.split('.');
  const owner = field === undefined ? hello : hello[head];
  const key = field ?? head;
  if (c.kind === 'drop') {
    delete owner[key];
    return { frame: hello, valid: OPTIONAL.has(c.path), name };
  }
  const sent = JSON.parse(JSON.stringify(c.value));
  owner[key] = sent;
  return { frame: hello, valid: FIELDS[c.path](sent), name: c.path === 'node.name' ? sent : name };
}

/** A random JSON value, or a valid hello bent by a change. */
const frames: fc.Arbitrary<{ raw: Json } | { change: Change }> = fc.oneof(
  { weight: 1, arbitrary: fc.jsonValue().map((raw) => ({ raw })) },
  { weight: 5, arbitrary: change.map((c) => ({ change: c })) },
);

for (const kind of STORE_KINDS) {
  test(`${kind}: whatever an agent says first, the service goes on and only valid hellos add nodes`, async () => {
    const w = await poolWorld({ store: kind });
    try {
      await w.store.putUser({ id: 'alice', name: 'alice', isAdmin: false, createdAt: T0 });
      const alice = (await issueToken(w.store, 'alice', 't', T0)).token;
      await w.agent(new MemoryHost(WELL_BEHAVED, { cpu: 8, memoryMiB: 8192 })).connected();
      const expected = new Set([WELL_BEHAVED]);
      let run = 0;
      await fc.assert(fc.asyncProperty(frames, async (made) => {
        const { frame, valid, name } = 'change' in made ? bent(`p${run++}`, made.change) : { frame: made.raw, valid: false, name: undefined };
        const agent = await RawAgent.dial(w.server, w.admin);
        agent.send(JSON.stringify(frame));
        const welcome = await agent.next((m) => m.type === 'welcome');
        await agent.close();
        const closed = await agent.closed;
        assert.equal(welcome !== undefined, valid, `welcomed ${welcome !== undefined}, closed ${JSON.stringify(closed)}, said ${agent.refusal()}`);
        // A well-formed pilot job id is no invalid hello: this service refuses it by its rule, saying so.
        const byRule = 'change' in made && made.change.kind === 'set' && made.change.path === 'node.pilot' && /^[1-9][0-9]{0,18}$/.test(String(made.change.value)) && typeof made.change.value === 'string';
        if (!valid) assert.deepEqual([closed.code, byRule ? /this service runs no pilots/.test(closed.reason) : closed.reason.startsWith('invalid hello: ')], [4001, true], closed.reason);
        if (valid) expected.add(name as string);
        assert.deepEqual((await w.store.listNodes()).map((n) => n.id).sort(), [...expected].sort());
        const res = await fetch(`${w.server}/v1/leases`, { headers: { authorization: `Bearer ${alice}` } });
        assert.equal(res.status, 200, await res.text());
      }), { numRuns: kind === 'sqlite' ? 150 : 60, examples: [[{ change: { kind: 'set', path: 'node.pilot', value: '4711' } }]] });
      // Still serving: a lease is made, and the well-behaved agent answers.
      const res = await fetch(`${w.server}/v1/leases`, {
        method: 'POST', headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'best-effort', nodes: 1, cpu: 8, memoryMiB: 1024, duration: 60 }),
      });
      assert.equal(res.status, 201, await res.text());
      assert.ok(Array.isArray(await w.pool.hub.call(WELL_BEHAVED, 'status', {})));
    } finally {
      await w.close();
    }
  });
}
