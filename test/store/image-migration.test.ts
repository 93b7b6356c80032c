// Migration 4 gives images a group and a visibility. Images registered before it were seen and
// used by every user, so they come out public, with no group: nothing a user leased before stops
// working. On a real SQLite file and a real PostgreSQL schema, each built at version 3 by the
// released migrations themselves.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS, SCHEMA_VERSION_TABLE } from '../../src/store/migrations.ts';
import { openSqliteStore } from '../../src/store/sqlite-store.ts';
import type { ImageRow, Store } from '../../src/store/store.ts';
import { dropTestSchema, freshSchema, openTestPostgres, withTestClient } from '../support/test-postgres.ts';

const T = 1_700_000_000;
const BEFORE = MIGRATIONS.filter((m) => m.version <= 3);
const INSERT_V3_IMAGE = "INSERT INTO images (name, size_mib, sha256, owner, uploaded, created_at, boot) VALUES ('old.img', 10, '" + 'ab'.repeat(32) + "', 'ann', $UPLOADED, " + T + ', NULL)';

const migrated: ImageRow = { name: 'old.img', sizeMiB: 10, sha256: 'ab'.repeat(32), owner: 'ann', group: null, visibility: 'public', uploaded: true, createdAt: T, boot: null };

async function check(store: Store): Promise<void> {
  assert.equal(await store.schemaVersion(), MIGRATIONS.length);
  assert.deepEqual(await store.getImage('old.img'), migrated);
  assert.deepEqual(await store.imagesWithSha256('ab'.repeat(32)), [migrated]);
}

test('SQLite: images from before migration 4 are public, with no group', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-migrate-'));
  try {
    const path = join(dir, 'vws.db');
    const db = new Database(path);
    db.exec(SCHEMA_VERSION_TABLE.sqlite);
    for (const m of BEFORE) {
      db.exec(m.sqlite);
      db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(m.version, T);
    }
    db.exec(INSERT_V3_IMAGE.replace('$UPLOADED', '1'));
    db.close();
    const store = await openSqliteStore(path);
    try {
      await check(store);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('PostgreSQL: images from before migration 4 are public, with no group', async () => {
  const schema = freshSchema();
  try {
    await withTestClient(schema, async (client) => {
      await client.query(SCHEMA_VERSION_TABLE.postgres);
      for (const m of BEFORE) {
        await client.query(m.postgres);
        await client.query('INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)', [m.version, T]);
      }
      await client.query(INSERT_V3_IMAGE.replace('$UPLOADED', 'true'));
    });
    const store = await openTestPostgres(schema);
    try {
      await check(store);
    } finally {
      await store.close();
    }
  } finally {
    await dropTestSchema(schema);
  }
});
