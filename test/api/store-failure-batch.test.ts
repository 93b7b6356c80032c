// Requests that wait while the control loop is busy are run together in one transaction (a group
// commit). What that must mean when something goes wrong in the middle of such a batch, on SQLite
// and on PostgreSQL: a store that fails at one write rolls the whole batch back and stops the
// service until it is restarted, and the restart replays to the schedule there was before the
// batch; a request of the batch that the scheduler refuses leaves the others to commit.

import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { test } from 'node:test';
import type { LeaseService } from '../../src/control/lease-service.ts';
import type { InputRow, Store } from '../../src/store/store.ts';
import { type ApiWorld, apiWorld, lease, type StoreKind, T0 } from './api-world.ts';
import { assertRefused } from './refusal-assert.ts';

/** What a write inside a transaction was: the method, and the input's type and lease id for an input. */
interface Write {
  method: string;
  input?: { type: string; id?: string };
}

interface Tx {
  writes: Write[];
  /** Fail the first write made once this many submit inputs have been written. */
  failAfterSubmits: number | null;
}

const WRITES = new Set(['appendInput', 'putLease', 'appendEvent', 'rememberIdempotent', 'putNode', 'putWorkspace']);

/**
 * The store, with two test levers: the next transaction can be held before it begins (so that the
 * requests that arrive meanwhile wait, and make up the next batch), and the transaction after
 * that can fail, as a full disk would, at the write that follows its kth request. It records the
 * writes of each transaction.
 */
function batchLevers(store: Store) {
  const tx = new AsyncLocalStorage<Tx>();
  const transactions: Write[][] = [];
  let hold: { reached: () => void; release: Promise<void> } | null = null;
  let failNext: number | null = null;
  const wrapped = new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== 'function') return value;
      if (prop === 'transaction') {
        return async <T>(fn: () => Promise<T>): Promise<T> => {
          const held = hold;
          hold = null;
          if (held) {
            held.reached();
            await held.release;
          }
          const writes: Tx = { writes: [], failAfterSubmits: held ? null : failNext };
          if (!held) failNext = null;
          transactions.push(writes.writes);
          return target.transaction(() => tx.run(writes, fn));
        };
      }
      return (...args: unknown[]) => {
        const open = tx.getStore();
        if (open && WRITES.has(String(prop))) {
          const submits = open.writes.filter((wr) => wr.input?.type === 'submit').length;
          const input = prop === 'appendInput' ? (args[0] as Omit<InputRow, 'seq'>).data as { type: string; id?: string; request?: { id: string } } : undefined;
          open.writes.push({ method: String(prop), ...(input ? { input: { type: input.type, id: input.request?.id ?? input.id } } : {}) });
          if (open.failAfterSubmits !== null && submits === open.failAfterSubmits) return Promise.reject(new Error(`SQLITE_FULL: database or disk is full (in ${String(prop)})`));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    store: wrapped,
    transactions,
    /** Holds the next transaction before it begins; resolves once it is held, with the release. */
    holdNext(): Promise<() => void> {
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      return new Promise((reached) => {
        hold = { reached: () => reached(release), release: released };
      });
    },
    /** The next transaction that is not held fails at the first write after its kth submit input. */
    failAfterSubmits(k: number): void {
      failNext = k;
    },
  };
}

/**
 * Resolves once `n` lease creates have reached the service: each joins the service's queue as it
 * is called, before it returns.
 */
function createsArrived(service: LeaseService, n: number): Promise<void> {
  const create = service.create;
  let arrived = 0;
  return new Promise((all) => {
    service.create = (...args) => {
      const queued = create.apply(service, args);
      if (++arrived === n) {
        service.create = create;
        all();
      }
      return queued;
    };
  });
}

async function world(backend: StoreKind, nodes: number) {
  let levers!: ReturnType<typeof batchLevers>;
  const w = await apiWorld(nodes, (s) => (levers = batchLevers(s)).store, backend);
  return { w, levers };
}

const schedule = async (w: ApiWorld): Promise<string> => {
  const res = await w.call(w.tokens.admin, 'GET', '/v1/schedule');
  assert.equal(res.status, 200);
  return res.body as string;
};

/**
 * Sends `blocker`, holds its transaction before it begins, sends `batch` all at once meanwhile,
 * and lets the blocker go once they have all reached the service: they make up the next batch.
 */
async function asOneBatch(w: ApiWorld, levers: ReturnType<typeof batchLevers>, blocker: () => Promise<unknown>, batch: Array<() => Promise<{ status: number; body: unknown }>>) {
  const held = levers.holdNext();
  const first = blocker();
  const release = await held;
  const arrived = createsArrived(w.service, batch.length);
  const answers = Promise.all(batch.map((send) => send()));
  await arrived;
  release();
  await first;
  return answers;
}

for (const backend of ['sqlite', 'postgres'] as const) {
  test(`${backend}: a store that fails in the middle of a batch rolls all of it back, stops the service with the reason, and a restart replays to the schedule before it`, async () => {
    const { w, levers } = await world(backend, 3);
    const a = w.tokens.alice;
    const running = (await w.call(a, 'POST', '/v1/leases', lease())).body.lease.id as string;
    assert.equal((await w.call(w.tokens.bob, 'POST', '/v1/leases', lease({ kind: 'exact', start: T0 + 7200, nodes: 3 }))).status, 201);
    await w.service.reconcileNow();
    const inputs = (await w.store.inputs()).length;
    const events = await w.store.lastEventId();
    const leases = (await w.store.listLeases()).map((l) => l.id).sort();

    // The four requests that wait behind a quote share the next transaction, which fails at the
    // write after the third request's input (its lease row).
    const scheduleBefore = await schedule(w);
    const blocker = async () => assert.equal((await w.call(a, 'POST', '/v1/leases/quote', lease())).status, 200);
    const kinds = [lease(), lease({ kind: 'immediate', duration: 600 }), lease({ kind: 'exact', start: T0 + 20_000 }), lease({ kind: 'deadline', deadline: T0 + 50_000 })];
    const transactionsBefore = levers.transactions.length;
    levers.failAfterSubmits(3);
    const answers = await asOneBatch(w, levers, blocker, kinds.map((body, k) => () => w.call(a, 'POST', '/v1/leases', body, { 'idempotency-key': `batch-${k}` })));
    for (const res of answers) {
      assertRefused(res as { status: number; body: { code: string; message: string } }, 'store-unavailable', 'every request of the batch');
      assert.match((res.body as { message: string }).message, /^the store is unavailable; the request changed nothing/);
    }
    const [blockerTx, batchTx, ...more] = levers.transactions.slice(transactionsBefore);
    assert.deepEqual(blockerTx, [], 'the held transaction was the quote\'s (the reconciler\'s would write workspaces)');
    assert.deepEqual(more, [], 'no other transaction ran');
    const submitted = batchTx.filter((wr) => wr.input?.type === 'submit').map((wr) => wr.input!.id!);
    assert.equal(submitted.length, 3, `three requests of one batch were written before the failure: ${JSON.stringify(batchTx)}`);
    assert.equal(batchTx.at(-2)?.input?.id, submitted[2], 'it failed right after the third input');

    // Nothing of the batch is in the store: no row, no input, no event, no idempotency key.
    const kept = (await w.store.listLeases()).map((l) => l.id).sort();
    assert.deepEqual(kept, leases);
    assert.equal((await w.store.inputs()).length, inputs);
    assert.equal(await w.store.lastEventId(), events);
    for (let k = 0; k < kinds.length; k++) assert.equal(await w.store.idempotentResponse('alice', `batch-${k}`), null);

    // The scheduler heard inputs the store lost: it takes nothing more, and says why, to everyone.
    for (const [token, body] of [[a, lease()], [w.tokens.bob, lease({ kind: 'exact', start: T0 + 9000 })]] as const) {
      const later = await w.call(token, 'POST', '/v1/leases', body);
      assertRefused(later, 'store-unavailable');
      assert.match(later.body.message, /the service stopped after a store failure and takes nothing until an administrator restarts it \(it replays its log\)/);
    }
    assertRefused(await w.call(a, 'DELETE', `/v1/leases/${running}`), 'store-unavailable', 'a cancel too');
    assertRefused(await w.call(w.tokens.admin, 'GET', '/v1/schedule'), 'store-unavailable', 'its scheduler has leases the store lost: not a schedule to show');
    assert.equal((await w.store.inputs()).length, inputs);

    // A restart on the same store replays to the schedule as it stood before the failed batch.
    await w.restart();
    assert.equal(await schedule(w), scheduleBefore);
    const again = await w.call(a, 'POST', '/v1/leases', kinds[2], { 'idempotency-key': 'batch-2' });
    assert.equal(again.status, 201, `the key of a rolled-back request is free: ${JSON.stringify(again.body)}`);
    await w.close();
  });

  test(`${backend}: a request of a batch that the scheduler refuses leaves the others of the batch to commit`, async () => {
    const { w, levers } = await world(backend, 2);
    const a = w.tokens.alice;
    const blocker = async () => {
      assert.equal((await w.call(w.tokens.bob, 'POST', '/v1/leases', lease({ kind: 'exact', start: T0 + 7200, nodes: 2, duration: 600 }))).status, 201);
    };
    // Two immediate leases for the whole pool: whichever comes second in the batch finds no room,
    // because of the one before it in the same transaction.
    const immediate = lease({ kind: 'immediate', nodes: 2, duration: 1800 });
    const bodies = [immediate, lease({ kind: 'exact', start: T0 + 9000, nodes: 1 }), immediate];
    const transactionsBefore = levers.transactions.length;
    const answers = await asOneBatch(w, levers, blocker, bodies.map((body) => () => w.call(a, 'POST', '/v1/leases', body)));
    const [, batchTx] = levers.transactions.slice(transactionsBefore);
    const refused = answers.filter((r) => r.status !== 201);
    assert.equal(refused.length, 1, JSON.stringify(answers));
    const no = refused[0] as { status: number; body: { code: string; message: string; earliestStart: number; alternatives: unknown[] } };
    assertRefused(no, 'insufficient-capacity');
    const yes = answers.filter((r) => r.status === 201).map((r) => (r.body as { lease: { id: string; kind: string; status: string; plannedEnd: number } }).lease);
    const granted = yes.find((l) => l.kind === 'immediate')!;
    assert.equal(granted.status, 'running');
    assert.equal(no.body.earliestStart, granted.plannedEnd, 'once the other immediate lease, granted earlier in the same batch, ends');
    const quote = (await w.call(a, 'POST', '/v1/leases/quote', immediate)).body;
    assert.deepEqual([quote.earliestStart, quote.alternatives], [no.body.earliestStart, no.body.alternatives], 'what the scheduler answers once the batch has committed');
    assert.deepEqual(batchTx.filter((wr) => wr.input?.type === 'submit').map((wr) => wr.input!.id).sort(), yes.map((l) => l.id).sort(), 'the granted requests were written in one transaction');

    const stored = await w.store.listLeases();
    for (const l of yes) assert.equal(stored.find((s) => s.id === l.id)?.status, l.status, `${l.id} was committed`);
    assert.equal(stored.length, 3, 'the blocker and the two granted');
    // The service goes on: the refusal was an answer, not a failure.
    assert.equal((await w.call(a, 'POST', '/v1/leases', lease())).status, 201);
    const scheduleBefore = await schedule(w);
    await w.restart();
    assert.equal(await schedule(w), scheduleBefore, 'a restart replays the committed batch to the same schedule');
    await w.close();
  });
}
