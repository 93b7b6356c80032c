// `vws serve` itself (the built CLI, a SQLite file, simulated nodes) wires cluster leases to its
// broker: a cluster lease's context shows in GET /v1/leases/{id} once it deploys, survives a
// kill -9 of the server, and is gone once the lease is cancelled; --guest-url is taken, a bad one
// refused before anything starts.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BOOTSTRAP_TOKEN, freePort, root, startServer } from '../cli/client/real-server.ts';
import { cluster } from '../api/cluster-body.ts';
import { bin } from '../support/vws-bin.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from the API, read loosely: the asserts check its shape
type Json = any;

async function call(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${BOOTSTRAP_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, body: await res.json() };
}

/** GET the lease until `ok` holds of it: the server works on its own time. */
async function leaseUntil(url: string, id: string, ok: (l: Json) => boolean): Promise<Json> {
  let last: Json = null;
  for (let i = 0; i < 600; i++) {
    last = (await call(url, 'GET', `/v1/leases/${id}`)).body;
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the lease never came to what the test waits for; last seen ${JSON.stringify(last)}`);
}

test('vws serve registers a deployed cluster lease with its broker (kept across kill -9) and forgets it once cancelled', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-serve-ctx-'));
  const port = await freePort();
  const pool = ['--nodes', '4', '--guest-url', 'http://10.9.9.9:8080'];
  let server = await startServer(join(dir, 'data'), port, pool);
  try {
    const made = await call(server.url, 'POST', '/v1/leases', cluster());
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const id = made.body.lease.id as string;
    const shown = await leaseUntil(server.url, id, (l) => l.context !== undefined);
    assert.equal(shown.context.status, 'pending');
    assert.deepEqual(shown.context.roles.map((r: Json) => [r.name, r.count, r.reported]), [['head', 1, 0], ['worker', 2, 0]]);
    await leaseUntil(server.url, id, (l) => l.workspaces.length === 3 && l.workspaces.every((w: Json) => w.context?.state === 'pending'));
    await server.kill();
    server = await startServer(join(dir, 'data'), port, pool);
    assert.equal((await call(server.url, 'GET', `/v1/leases/${id}`)).body.context.status, 'pending', 'the context is kept across a crash');
    assert.ok((await call(server.url, 'DELETE', `/v1/leases/${id}`)).status < 300);
    const ended = await leaseUntil(server.url, id, (l) => l.context === undefined);
    assert.equal(ended.status, 'cancelled');
  } finally {
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('vws serve refuses a --guest-url that is not an http(s) URL, saying what to give', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-serve-gurl-'));
  try {
    const out = spawnSync(process.execPath, [bin, 'serve', '--data', join(dir, 'data'), '--listen', `127.0.0.1:${await freePort()}`, '--guest-url', 'ftp://10.0.0.1/'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    assert.notEqual(out.status, 0);
    assert.match(out.stderr, /--guest-url must be an http or https URL/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
