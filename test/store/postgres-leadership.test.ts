// The election and the fence on a real PostgreSQL: one leader at a time, each takeover raises the
// epoch, a deposed leader's writes are refused, and a takeover waits for the writes under way.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { LATEST_VERSION } from '../../src/store/migrations.ts';
import { isFenced } from '../../src/store/leadership.ts';
import type { PostgresStore } from '../../src/store/postgres-store.ts';
import { dropTestSchema, freshSchema, openTestPostgres, withTestClient } from '../support/test-postgres.ts';

const schema = freshSchema();
let a: PostgresStore;
let b: PostgresStore;
const user = (id: string) => ({ id, name: id, isAdmin: false, createdAt: 1 });

before(async () => {
  a = await openTestPostgres(schema);
  b = await openTestPostgres(schema);
});
after(async () => {
  await a.close();
  await b.close();
  await dropTestSchema(schema);
});

test('one leader at a time; a takeover raises the epoch and the old leader\'s writes are refused', async () => {
  const la = a.leadership();
  const lb = b.leadership();
  let aFenced = 0;
  la.onFenced(() => aFenced++);
  try {
    assert.equal(await la.election.current(), null);
    const first = await la.election.campaign({ holder: 'a', address: 'http://127.0.0.1:1' });
    assert.equal(first, 1);
    assert.equal(await lb.election.campaign({ holder: 'b', address: 'http://127.0.0.1:2' }), null, 'a live leadership is not taken');
    assert.deepEqual({ ...(await lb.election.current())!, since: 0 }, { epoch: 1, holder: 'a', address: 'http://127.0.0.1:1', since: 0, expired: false });
    la.fence(1);
    await a.putUser(user('ann'));
    assert.equal(await la.election.renew(1), true);

    // a stops renewing (paused, say): once its term runs out, b takes over.
    await la.election.resign(1);
    assert.equal((await lb.election.current())!.expired, true);
    assert.equal(await lb.election.campaign({ holder: 'b', address: 'http://127.0.0.1:2' }), 2);
    lb.fence(2);
    await b.putUser(user('bob'));
    await assert.rejects(a.putUser(user('eve')), (e: unknown) => isFenced(e) && /led the store as epoch 1.*taken over/.test((e as Error).message));
    await assert.rejects(a.transaction(async () => { await a.putUser(user('eve')); }), isFenced);
    assert.equal(aFenced, 2, 'each refused write is reported to the server');
    assert.equal(await la.election.renew(1), false, 'the old leader learns it was deposed');
    assert.deepEqual((await b.listUsers()).map((u) => u.id), ['ann', 'bob']);
  } finally {
    await la.election.close();
    await lb.election.close();
  }
});

test('a takeover waits for the old leader\'s writes under way, so none lands behind it', async () => {
  const lb = b.leadership();
  const la = a.leadership();
  try {
    const current = (await lb.election.current())!;
    lb.fence(current.epoch);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const writing = b.transaction(async () => {
      await b.putUser(user('late'));
      await held;
    });
    await new Promise((r) => setTimeout(r, 100));
    await lb.election.resign(current.epoch);
    let won: number | null | undefined;
    const taking = la.election.campaign({ holder: 'a', address: 'http://127.0.0.1:1' }).then((e) => (won = e));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(won, undefined, 'the takeover waited for the write in its transaction');
    release();
    await writing;
    await taking;
    assert.equal(won, current.epoch + 1);
    assert.ok((await a.listUsers()).some((u) => u.id === 'late'));
  } finally {
    await la.election.close();
    await lb.election.close();
  }
});

test('two servers campaigning at once on a store no one has led yet: one wins, and the other does not take over from it', async () => {
  const fresh = freshSchema();
  const c = await openTestPostgres(fresh);
  const d = await openTestPostgres(fresh);
  const lc = c.leadership();
  const ld = d.leadership();
  try {
    // Several rounds, each from no leadership rows at all: the race is between two transactions,
    // and one round may happen to run them one after the other.
    for (let round = 0; round < 10; round++) {
      await withTestClient(fresh, (client) => client.query('DELETE FROM leader_heartbeat; DELETE FROM leadership'));
      const won = await Promise.all([lc.election.campaign({ holder: 'c', address: 'http://127.0.0.1:3' }), ld.election.campaign({ holder: 'd', address: 'http://127.0.0.1:4' })]);
      assert.deepEqual(won.filter((e) => e !== null), [1], `round ${round}: both campaigns' answers ${JSON.stringify(won)} (one epoch 1, the other none)`);
    }
  } finally {
    await lc.election.close();
    await ld.election.close();
    await c.close();
    await d.close();
    await dropTestSchema(fresh);
  }
});

test('a store at a newer schema version than this vws knows is refused, with both versions', async () => {
  const other = freshSchema();
  try {
    await (await openTestPostgres(other)).close();
    await withTestClient(other, (c) => c.query('INSERT INTO schema_version (version, applied_at) VALUES ($1, 0)', [LATEST_VERSION + 1]));
    await assert.rejects(openTestPostgres(other), new RegExp(`schema version ${LATEST_VERSION + 1}, and this vws knows versions up to ${LATEST_VERSION}`));
  } finally {
    await dropTestSchema(other);
  }
});
