// Real restarts of the store's PostgreSQL during a stream of creates: once clean (pg_ctl restart
// -m fast), once a crash (-m immediate, recovered from the WAL), and once a crash with the database
// down for longer than a leader's term. The database
// is a private cluster of this test's own (test/support/private-postgres.ts): the machine's shared
// one cannot be restarted under the other tests. Two servers share it, so a takeover may happen
// too. Every create is retried with its Idempotency-Key until it has a definite answer; then
// exactly the accepted leases exist, none twice, both servers are back (one leads), and the
// schedule passes the shared checker.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { freePort } from '../support/free-port.ts';
import { type PrivatePostgres, startPrivatePostgres } from '../support/private-postgres.ts';
import { TERM_MS } from '../../src/store/leadership.ts';
import { type Answer, call as callAs, createUntilAnswered, health, type Server, startServer } from '../support/serve-processes.ts';
import { validateSchedule } from '../support/validate-schedule.ts';
import { waitFor } from '../support/wait.ts';

const TOKEN = 'vws_test-db-restart-admin-token';
const CREATES = 300;
/**
 * When in the stream (the share of creates answered), and how: a clean restart, a crash restart,
 * and a crash with the database down longer than a leader's term, so that the leader's term runs
 * out unrenewed and no server can campaign until it is back.
 */
const PLAN = [[1 / 4, 'fast', undefined], [2 / 4, 'immediate', undefined], [3 / 4, 'immediate', TERM_MS + 2000]] as const;
const dir = mkdtempSync(join(tmpdir(), 'vws-db-restart-'));
let db: PrivatePostgres | null = null;

const servers: Server[] = [];
const start = (name: string, port: number, store: string): Server => startServer({ store, dir, token: TOKEN }, name, port);
const call = (url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> => callAs(TOKEN, url, method, path, body, headers);

const outputs = (): string =>
  [...servers.map((s) => `--- ${s.name} (exit ${s.child.exitCode}):\n${s.output.slice(-3000)}`), `--- PostgreSQL:\n${db?.log().slice(-1500) ?? ''}`].join('\n');

/** The leader, once one server says it leads and the other follows it. */
async function settled(): Promise<Server> {
  return waitFor('one server leading and the other following it', async () => {
    const [a, b] = await Promise.all(servers.map(health));
    const leads = [a, b].filter((h) => h?.role === 'leader');
    const follows = [a, b].filter((h) => h?.role === 'follower');
    if (leads.length !== 1 || follows.length !== 1 || follows[0]!.leader?.name !== leads[0]!.server) return false;
    return servers[[a, b].indexOf(leads[0])];
  }, { timeoutMs: 60_000, everyMs: 200, seen: outputs });
}


before(async () => {
  db = await startPrivatePostgres();
  for (const name of ['s1', 's2']) servers.push(start(name, await freePort(), db.url));
  await settled();
});

after(async () => {
  for (const s of servers) {
    s.child.kill('SIGKILL');
    await s.exited;
  }
  await db?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test(`${CREATES} creates over two servers, their PostgreSQL restarted (fast), crashed (immediate), and crashed and kept down past a term: nothing accepted is lost, nothing made twice`, { timeout: 180_000 }, async () => {
  const accepted = new Map<string, string>();
  const refused = new Set<string>();
  /** Statuses and connection failures that sent a create round again, for the report in a failure. */
  const retriedOn = new Map<string, number>();
  let next = 0;
  const createOne = async (i: number): Promise<void> => {
    const key = `restart-${i}`;
    const request = { kind: 'best-effort', nodes: 1 + (i % 2), cpu: 1 + (i % 3), memoryMiB: 512, duration: 30 + (i % 7) * 20 };
    // 503: the store or the leader was away, nothing done; 502: the leader went away mid-answer, done or not.
    const r = await createUntilAnswered(TOKEN, servers, i, key, request, {
      giveUpMs: 60_000, retried: (why) => retriedOn.set(why, (retriedOn.get(why) ?? 0) + 1),
      seen: () => `retried on ${JSON.stringify(Object.fromEntries(retriedOn))}\n${outputs()}`,
    });
    if ('accepted' in r) accepted.set(key, r.accepted);
    else refused.add(key);
  };
  const workers = Array.from({ length: 6 }, async () => {
    for (let i = next++; i < CREATES; i = next++) await createOne(i);
  });
  const restarts: Array<{ mode: string; before: number; after: number }> = [];
  const restarter = (async () => {
    for (const [at, mode, downMs] of PLAN) {
      await waitFor(`${Math.round(at * CREATES)} creates answered`, () => accepted.size + refused.size >= CREATES * at, { timeoutMs: 120_000, seen: outputs });
      const before = accepted.size + refused.size;
      await db!.restart({ mode, downMs });
      restarts.push({ mode, before, after: accepted.size + refused.size });
    }
  })();
  await Promise.all([...workers, restarter]);
  assert.equal(restarts.length, PLAN.length);
  assert.ok(restarts.every((r) => r.after < CREATES), `each restart came back before the stream ended: ${JSON.stringify(restarts)}`);
  assert.equal(accepted.size + refused.size, CREATES);
  assert.ok(retriedOn.size > 0, 'the restarts interrupted the stream (no create had to be retried)');

  // Both servers lived through it and came back to one leader.
  for (const s of servers) assert.equal(s.child.exitCode, null, `${s.name} exited:\n${outputs()}`);
  const lead = await settled();

  const ids = [...accepted.values()];
  assert.equal(new Set(ids).size, ids.length, 'two keys were answered with one lease');
  const listed: string[] = [];
  for (let after: string | null = ''; after !== null;) {
    const page = await call(lead.url, 'GET', `/v1/leases?limit=500${after ? `&after=${after}` : ''}`);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    listed.push(...(page.body.leases as { id: string }[]).map((l) => l.id));
    after = page.body.next as string | null;
  }
  assert.deepEqual([...listed].sort(), [...ids].sort(), 'the leases the API lists are exactly the accepted ones');

  // The store itself, read past the servers: one lease per accepted key, and one key per lease.
  const client = new pg.Client({ connectionString: db!.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string; keys: string }>('SELECT l.id, COUNT(k.key) AS keys FROM leases l LEFT JOIN idempotency_keys k ON k.lease_id = l.id GROUP BY l.id');
    assert.deepEqual(rows.map((r) => r.id).sort(), [...ids].sort(), 'the leases in the store are exactly the accepted ones');
    assert.deepEqual(rows.filter((r) => Number(r.keys) !== 1), [], 'every lease was made for exactly one idempotency key');
  } finally {
    await client.end();
  }

  const schedule = await call(lead.url, 'GET', '/v1/schedule');
  assert.equal(schedule.status, 200);
  const checked = validateSchedule(String(schedule.body));
  assert.equal(checked.status, 0, `the schedule after ${PLAN.length} database restarts fails the shared checker:\n${checked.output}`);

  // Every running lease's VMs reach running under the leader (reconciled after the restarts).
  await waitFor('every running lease\'s VMs running', async () => {
    const running = (await call(lead.url, 'GET', '/v1/leases?status=running&limit=500')).body.leases as { id: string }[];
    for (const l of running) {
      const ws = (await call(lead.url, 'GET', `/v1/leases/${l.id}/workspaces`)).body.workspaces as { status: string }[];
      if (ws.some((w) => w.status !== 'running')) return false;
    }
    return true;
  }, { timeoutMs: 60_000, everyMs: 500, seen: () => lead.output.slice(-3000) });
  console.log(`restarts (creates answered before, after): ${JSON.stringify(restarts)}; retried on ${JSON.stringify(Object.fromEntries(retriedOn))}; ${accepted.size} accepted, ${refused.size} refused`);
  // What the servers did about it (their role changes), for whoever reads the run.
  for (const s of servers) for (const line of s.output.split('\n').filter((l) => l.startsWith('vws serve ('))) console.log(line);
});
