// The server is killed (SIGKILL) at random points during a stream of lease requests and started
// again on the same store; clients retry what they got no answer to, with the same
// Idempotency-Key. No accepted lease may be lost or duplicated, and no node over-committed.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { freePort } from '../support/free-port.ts';
import { waitFor } from '../support/wait.ts';

const root = new URL('../../', import.meta.url).pathname;
const CHECKER = new URL('../../../shared/tools/validate-schedule', import.meta.url).pathname;
const TOKEN = 'crash-test-admin';
const POSTGRES = process.env.VWS_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
const NODES = 6;


async function startServer(dataDir: string, port: number, store?: string): Promise<ChildProcess> {
  const args = ['bin/vws.js', 'serve', '--data', dataDir, '--listen', `127.0.0.1:${port}`, '--nodes', String(NODES), '--node-cpu', '1', '--node-memory', '1024', ...(store ? ['--store', store] : [])];
  const proc = spawn(process.execPath, args, { cwd: root, env: { ...process.env, VWS_BOOTSTRAP_TOKEN: TOKEN }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  try {
    await waitFor('the server to answer /v1/health', async () => {
      if (proc.exitCode !== null) throw new Error(`the server exited (${proc.exitCode}): ${stderr}`);
      return (await fetch(`http://127.0.0.1:${port}/v1/health`).catch(() => null))?.ok;
    }, { everyMs: 50, seen: () => stderr });
    return proc;
  } catch (e) {
    proc.kill('SIGKILL');
    throw e;
  }
}

/** A deterministic stream of mixed requests, so that a failure can be replayed. */
function requestStream(count: number, seed: number): Array<{ key: string; body: object }> {
  let x = seed;
  const rand = (n: number): number => ((x = (x * 1103515245 + 12345) % 2147483648), x % n);
  return Array.from({ length: count }, (_, i) => {
    const exact = rand(3) === 0;
    const body = exact
      ? { kind: 'exact', nodes: 1 + rand(3), cpu: 1, memoryMiB: 1024, duration: 600 + rand(3000), start: Math.floor(Date.now() / 1000) + 600 + rand(20000) }
      : { kind: 'best-effort', nodes: 1 + rand(3), cpu: 1, memoryMiB: 1024, duration: 60 + rand(7200) };
    return { key: `req-${seed}-${i}`, body };
  });
}

type Outcome = { state: 'accepted'; id: string } | { state: 'refused' } | { state: 'unknown' };

async function send(port: number, key: string, body: object): Promise<Outcome> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/v1/leases`, {
      method: 'POST', body: JSON.stringify(body),
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'idempotency-key': key },
    });
    const json = (await res.json()) as { lease?: { id: string } };
    if (res.status === 200 || res.status === 201) return { state: 'accepted', id: json.lease!.id };
    if (res.status >= 400 && res.status < 500) return { state: 'refused' };
    return { state: 'unknown' };
  } catch {
    return { state: 'unknown' };
  }
}

interface LeaseOut { id: string; status: string }

async function allLeases(port: number): Promise<LeaseOut[]> {
  const out: LeaseOut[] = [];
  let after: string | null = null;
  do {
    const res = await fetch(`http://127.0.0.1:${port}/v1/leases?limit=1000${after ? `&after=${after}` : ''}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const page = (await res.json()) as { leases: LeaseOut[]; next: string | null };
    out.push(...page.leases);
    after = page.next;
  } while (after);
  return out;
}

async function crashAndRecover(store: string | undefined, seed: number): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vws-crash-'));
  const port = await freePort();
  const stream = requestStream(600, seed);
  const outcomes = new Map<string, Outcome>(stream.map((r) => [r.key, { state: 'unknown' }]));
  let proc = await startServer(dataDir, port, store);
  let next = 0;
  let kills = 0;
  let retried = 0;
  try {
    for (let round = 0; round < 5; round++) {
      // First what got no answer before the last kill, with the same keys, as a client would.
      for (const r of stream.slice(0, next)) {
        if (outcomes.get(r.key)!.state !== 'unknown') continue;
        retried++;
        outcomes.set(r.key, await send(port, r.key, r.body));
      }
      // Then new requests, four at a time, until the kill falls in the middle of them.
      let dead = false;
      const killAt = round < 4 ? 15 + ((seed * (round + 7) * 37) % 120) : Infinity;
      const killer = killAt === Infinity ? null : setTimeout(() => {
        proc.kill('SIGKILL');
        kills++;
        dead = true;
      }, killAt);
      while (next < stream.length && !dead) {
        const part = stream.slice(next, next + 4);
        next += part.length;
        const results = await Promise.all(part.map((r) => send(port, r.key, r.body)));
        part.forEach((r, k) => outcomes.set(r.key, results[k]));
      }
      if (killer) {
        clearTimeout(killer);
        if (!dead) {
          proc.kill('SIGKILL');
          kills++;
        }
        if (proc.exitCode === null && proc.signalCode === null) await new Promise((r) => proc.once('exit', r));
        proc = await startServer(dataDir, port, store);
      }
    }
    // A last pass for anything still unanswered.
    for (const r of stream) if (outcomes.get(r.key)!.state === 'unknown') outcomes.set(r.key, await send(port, r.key, r.body));
    const accepted = [...outcomes.values()].filter((o): o is { state: 'accepted'; id: string } => o.state === 'accepted').map((o) => o.id);
    assert.equal(new Set(accepted).size, accepted.length, 'two keys were given the same lease');
    const leases = await allLeases(port);
    assert.deepEqual(leases.map((l) => l.id).sort(), [...accepted].sort(), 'the store holds exactly the accepted leases: none lost, none made twice');
    // The independent checker on the whole schedule: capacity on every node at every instant, reservations on time.
    const res = await fetch(`http://127.0.0.1:${port}/v1/schedule`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const file = join(dataDir, 'schedule.jsonl');
    writeFileSync(file, await res.text());
    const check = spawnSync('python3', [CHECKER, file], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.ok(kills >= 4, `the server was killed ${kills} times`);
    assert.ok(retried > 0, 'no kill fell while requests were in flight: the test would prove nothing');
    assert.ok(accepted.length > 10, `only ${accepted.length} leases were accepted`);
  } finally {
    proc.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

test('SIGKILL at random points, restart on SQLite: no accepted lease lost or duplicated, no node over-committed', async () => {
  await crashAndRecover(undefined, 7);
});

test('SIGKILL at random points, restart on PostgreSQL: no accepted lease lost or duplicated, no node over-committed', async () => {
  const schema = `vws_crash_${process.pid}_${Date.now() % 100000}`;
  const client = new pg.Client(POSTGRES);
  await client.connect();
  try {
    await crashAndRecover(`${POSTGRES}?schema=${schema}`, 11);
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  }
});
