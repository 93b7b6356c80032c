// A second `vws serve` on a store that already has a live server refuses to start, saying so
// (issue 14, finding 12: two servers on one PostgreSQL schema both took the same single node).
// The claim dies with its server: after kill -9 another server takes the store.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { freePort, root, startServer } from '../cli/client/real-server.ts';
import { bin } from '../support/vws-bin.ts';

const POSTGRES = process.env.VWS_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

async function secondRefusedThenTakesOver(dataDir: string, store: string[], says: RegExp): Promise<void> {
  const first = await startServer(dataDir, await freePort(), ['--nodes', '1', ...store]);
  try {
    const second = spawnSync(process.execPath, [bin, 'serve', '--data', dataDir, '--listen', `127.0.0.1:${await freePort()}`, '--nodes', '1', ...store], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    assert.notEqual(second.status, 0, 'the second server started');
    assert.match(second.stderr, says);
    assert.match(second.stderr, /stop it first/);
  } finally {
    await first.kill();
  }
  // kill -9 left the first server's claim behind; it died with its process.
  const third = await startServer(dataDir, await freePort(), ['--nodes', '1', ...store]);
  await third.kill();
}

test('a second server on one SQLite store refuses to start; after kill -9 of the first, another starts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-one-'));
  try {
    await secondRefusedThenTakesOver(join(dir, 'data'), [], /another vws serve \(process \d+\) is running on .*vws\.db/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a second server on one PostgreSQL schema refuses to start; after kill -9 of the first, another starts', async () => {
  const schema = `vws_one_${process.pid}_${Date.now() % 100000}`;
  const dir = mkdtempSync(join(tmpdir(), 'vws-one-pg-'));
  const client = new pg.Client(POSTGRES);
  await client.connect();
  try {
    await secondRefusedThenTakesOver(join(dir, 'data'), ['--store', `${POSTGRES}?schema=${schema}`], new RegExp(`another vws serve is running on this PostgreSQL store \\(schema ${schema}\\)`));
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
    rmSync(dir, { recursive: true, force: true });
  }
});
