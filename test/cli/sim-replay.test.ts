// `vws sim --replay STORE` on a real site's history (issue 20, item 3): a `vws serve` on the
// simulated driver is given leases of several kinds (an advance reservation that suspends a
// best-effort lease, a lease stopped early, a cancel, a hold committed and one left to run out),
// and once they have all ended its store is replayed while it still runs, and again after it
// stopped, on SQLite and on PostgreSQL. As it ran is the site's own GET /v1/schedule; under its
// own terms both columns agree; under requeueing terms the suspended lease is started again.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LATEST_VERSION } from '../../src/store/migrations.ts';
import { buildPostgresStoreAt, buildSqliteStoreAt } from '../support/store-at-version.ts';
import { postgresDigest, sqliteDigest, type StoreDigest } from '../support/store-digest.ts';
import { dropTestSchema, freshSchema, TEST_POSTGRES_URL } from '../support/test-postgres.ts';
import { validateSchedule } from '../support/validate-schedule.ts';
import { bin, root } from '../support/vws-bin.ts';
import { apiCall, BOOTSTRAP_TOKEN, freePort, type RealServer, startServer } from './client/real-server.ts';

function vws(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: root });
}

/** The site's terms, and the document the what-if runs under: the same but that preempted leases start again. */
const SITE_TERMS = { format: 'vws.terms/v1', description: 'the site as it runs' };
const REQUEUE_TERMS = { ...SITE_TERMS, description: 'what if preempted leases started again', preemption: { how: 'requeue' } };
const POOL = ['--nodes', '3', '--node-cpu', '1', '--node-memory', '1024'];

const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));
const nowS = () => Math.floor(Date.now() / 1000);

/** A few seconds of a site's life; resolves with the ids once every lease has ended. */
async function makeHistory(server: RealServer): Promise<Record<string, string>> {
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await apiCall(server, BOOTSTRAP_TOKEN, method, path, body);
    assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const lease = (nodes: number, duration: number, more: object = {}) => ({ kind: 'best-effort', nodes, cpu: 1, memoryMiB: 64, duration, ...more });
  const t0 = nowS();
  const ids: Record<string, string> = {};
  // Runs until t0 + 16: the reservation made about 2 s in, for 6 s later, falls well inside it.
  ids.suspended = (await call('POST', '/v1/leases', lease(2, 16))).lease.id;
  ids.stopped = (await call('POST', '/v1/leases', lease(1, 30))).lease.id;
  ids.queued = (await call('POST', '/v1/leases', lease(1, 3))).lease.id;
  ids.cancelled = (await call('POST', '/v1/leases', lease(1, 20))).lease.id;
  await call('DELETE', `/v1/leases/${ids.cancelled}`);
  ids.expired = (await call('POST', '/v1/leases/hold', { lease: lease(1, 2, { kind: 'exact', start: t0 + 40 }), ttl: 1 })).lease.id;
  ids.committed = (await call('POST', '/v1/leases/hold', { lease: lease(1, 2, { kind: 'exact', start: t0 + 20 }), ttl: 60 })).lease.id;
  await call('POST', `/v1/leases/${ids.committed}/commit`);
  await sleep(2);
  await call('POST', `/v1/leases/${ids.stopped}/stop`);
  // Two nodes from 6 s on: the 2-node best-effort lease is suspended for it, and resumed after.
  const ar = await call('POST', '/v1/leases', lease(2, 3, { kind: 'exact', start: nowS() + 6 }));
  ids.reservation = ar.lease.id;
  assert.deepEqual(ar.decision.preempted?.map((p: { leaseId: string; how: string }) => [p.leaseId, p.how]), [[ids.suspended, 'suspend']]);
  for (let waited = 0; ; waited++) {
    const listed = (await call('GET', '/v1/leases?limit=100')).leases as Array<{ status: string }>;
    if (listed.every((l) => ['done', 'cancelled', 'failed', 'rejected'].includes(l.status))) break;
    assert.ok(waited < 120, `the leases did not all end: ${JSON.stringify(listed)}`);
    await sleep(0.5);
  }
  return ids;
}

async function liveSchedule(server: RealServer): Promise<string> {
  const res = await fetch(`${server.url}/v1/schedule`, { headers: { authorization: `Bearer ${BOOTSTRAP_TOKEN}` } });
  assert.equal(res.status, 200);
  return res.text();
}

interface Replayed { json: { real: Record<string, unknown>; whatIf: Record<string, unknown>; dropped: Record<string, number>; holdsNeverCommitted: number }; real: string; whatIf: string }

/** `vws sim --replay STORE --json --schedule`, and both exports; nothing in the store changes (checked when `digest` is given). */
async function replay(store: string, digest: StoreDigest | null, dir: string, terms?: string): Promise<Replayed> {
  const before = await digest?.digest();
  const out = join(dir, `replay-${terms ? 'what-if' : 'own'}.jsonl`);
  const run = vws('sim', '--replay', store, '--json', '--schedule', out, ...(terms ? ['--terms', terms] : []));
  assert.equal(run.status, 0, run.stderr);
  if (digest) assert.equal(await digest.digest(), before, 'the replay changed the store');
  const real = readFileSync(out.replace(/\.jsonl$/, '.real.jsonl'), 'utf8');
  const whatIf = readFileSync(out, 'utf8');
  for (const text of [real, whatIf]) {
    const checked = validateSchedule(text);
    assert.equal(checked.status, 0, checked.output);
  }
  return { json: JSON.parse(run.stdout), real, whatIf };
}

const withoutWall = (m: Record<string, unknown>) => ({ ...m, wallSeconds: 0 });
const lines = (text: string) => text.trim().split('\n').slice(1).map((l) => JSON.parse(l) as { id: string; outcome: string; segments: Array<{ kind: string }> });

/** The history's replays, on a store `where` a server runs on at `start()`. */
async function replaysOf(start: () => Promise<RealServer>, store: string, digest: StoreDigest, dir: string): Promise<void> {
  const requeue = join(dir, 'requeue.json');
  writeFileSync(requeue, JSON.stringify(REQUEUE_TERMS));
  const server = await start();
  let ids: Record<string, string>;
  let own: Replayed;
  try {
    ids = await makeHistory(server);
    const live = await liveSchedule(server);
    // While the server runs it writes the store itself (its reconciler's rows, a leader's heartbeat): that nothing
    // changes is checked on the replays after it stopped; the store is opened read-only all along (read-only-store.test.ts).
    own = await replay(store, null, dir);
    assert.equal(own.real, live, 'as it ran is not the site\'s own GET /v1/schedule');
    assert.deepEqual(withoutWall(own.json.whatIf), withoutWall(own.json.real), 'under its own terms the what-if differs from what happened');
    assert.equal(own.json.real.suspensions, 1);
    assert.equal(own.json.holdsNeverCommitted, 1);
    assert.deepEqual(lines(own.whatIf).map((l) => [l.id, l.outcome]), lines(own.real).map((l) => [l.id, l.outcome]));
  } finally {
    await server.kill();
  }
  const after = await replay(store, digest, dir);
  assert.equal(after.real, own.real, 'the replay after the server stopped differs from the one while it ran');
  const other = await replay(store, digest, dir, requeue);
  assert.equal(other.real, own.real);
  assert.equal(other.json.whatIf.suspensions, 0, 'requeueing terms suspend nothing');
  assert.equal(other.json.whatIf.preemptions, 1);
  const attempts = lines(other.whatIf).filter((l) => l.id === `${ids.suspended}/attempt-1`);
  assert.equal(attempts.length, 1, 'the preempted lease lost its first attempt and started again');
  assert.equal(attempts[0].outcome, 'cancelled');
  assert.ok(!lines(other.whatIf).some((l) => l.segments.some((s) => s.kind === 'suspend')));
  assert.ok(lines(own.real).some((l) => l.id === ids.suspended && l.segments.some((s) => s.kind === 'suspend')));
  const stopped = lines(other.whatIf).find((l) => l.id === ids.stopped) as unknown as { realDuration: number; duration: number };
  assert.ok(stopped.realDuration < stopped.duration, 'the lease stopped early runs only as long in the what-if');
  const table = vws('sim', '--replay', store, '--terms', requeue);
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, new RegExp(`^\\s+as it ran\\s+under ${requeue.replace(/[.]/g, '\\.')}\\s+difference$`, 'm'));
  assert.match(table.stdout, /^suspensions\s+1\s+0\s+-1$/m);
  assert.match(table.stdout, /^leases\s+6\s+6\s+0$/m);
  assert.match(table.stdout, /^left out of the what-if: nothing; 1 holds never committed are in both schedules, not in the figures$/m);
}

test('vws sim --replay DIR: a SQLite site\'s history, while its server runs and after, as it ran and under other terms', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-replay-'));
  const data = join(dir, 'data');
  const terms = join(dir, 'site.json');
  writeFileSync(terms, JSON.stringify(SITE_TERMS));
  const digest = sqliteDigest(join(data, 'vws.db'));
  try {
    await replaysOf(async () => startServer(data, await freePort(), [...POOL, '--terms', terms]), data, digest, dir);
  } finally {
    await digest.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('vws sim --replay postgres://...?schema=S: a PostgreSQL site\'s history, while its server runs and after', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-replay-'));
  const schema = freshSchema();
  const store = `${TEST_POSTGRES_URL}?schema=${schema}`;
  const terms = join(dir, 'site.json');
  writeFileSync(terms, JSON.stringify(SITE_TERMS));
  const digest = postgresDigest(schema);
  try {
    await replaysOf(async () => startServer(join(dir, 'data'), await freePort(), [...POOL, '--terms', terms, '--store', store]), store, digest, dir);
  } finally {
    await digest.close();
    await dropTestSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('vws sim --replay refuses a store of another schema version, a place with no store and a policy document that does not read, saying what to do', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-replay-'));
  const schema = freshSchema();
  try {
    const refused = (args: string[], says: RegExp) => {
      const r = vws('sim', ...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, says);
      assert.equal(r.stdout, '');
    };
    const old = join(dir, 'old');
    mkdirSync(old);
    buildSqliteStoreAt(join(old, 'vws.db'), LATEST_VERSION - 1);
    refused(['--replay', old], new RegExp(`${old} is a store of schema version ${LATEST_VERSION - 1}, and this vws reads version ${LATEST_VERSION}: replay it with the vws that wrote it, or upgrade it first`));
    const newer = join(dir, 'newer');
    mkdirSync(newer);
    buildSqliteStoreAt(join(newer, 'vws.db'), LATEST_VERSION, [`INSERT INTO schema_version (version, applied_at) VALUES (${LATEST_VERSION + 1}, 0)`]);
    refused(['--replay', newer], new RegExp(`schema version ${LATEST_VERSION + 1}, newer than this vws knows \\(${LATEST_VERSION}\\)`));
    await buildPostgresStoreAt(schema, LATEST_VERSION - 1);
    refused(['--replay', `${TEST_POSTGRES_URL}?schema=${schema}`], new RegExp(`schema=${schema} is a store of schema version ${LATEST_VERSION - 1}, and this vws reads version ${LATEST_VERSION}`));
    refused(['--replay', `${TEST_POSTGRES_URL}?schema=${schema}_none`], /holds no vws store/);
    refused(['--replay', join(dir, 'missing')], /missing: no such directory: give the --data directory/);
    refused(['--replay', dir], /holds no vws store \(no vws\.db in it\)/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ format: 'vws.terms/v1', preemption: { how: 'pause' } }));
    refused(['--replay', old, '--terms', bad], new RegExp(`--terms ${bad}: terms\\.preemption\\.how`));
    writeFileSync(bad, '{"format": "vws.terms/v1",');
    refused(['--replay', old, '--terms', bad], /not JSON/);
    refused(['--replay', old, '--trace', join(root, 'test/fixtures/small.swf')], /--trace and --replay/);
    refused(['--replay', old, '--backfill', 'none'], /--backfill does not go with --replay: .* the policy is the --terms document's/);
  } finally {
    await dropTestSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  }
});
