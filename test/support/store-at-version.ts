// A store built at an older schema version by the released migrations themselves, given rows of
// that time, then opened by today's code (which migrates it): what a store kept before an upgrade
// looks like after it. One real SQLite file or one real PostgreSQL schema per call.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, SCHEMA_VERSION_TABLE } from '../../src/store/migrations.ts';
import { openSqliteStore } from '../../src/store/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';
import { dropTestSchema, freshSchema, openTestPostgres, withTestClient } from './test-postgres.ts';

const APPLIED_AT = 1_700_000_000;

/** Builds a SQLite store at `version` in the file at `path`, with `inserts` run on it, and leaves it as it is. */
export function buildSqliteStoreAt(path: string, version: number, inserts: readonly string[] = []): void {
  const db = new Database(path);
  db.exec(SCHEMA_VERSION_TABLE.sqlite);
  for (const m of MIGRATIONS.filter((x) => x.version <= version)) {
    db.exec(m.sqlite);
    db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(m.version, APPLIED_AT);
  }
  for (const sql of inserts) db.exec(sql);
  db.close();
}

/** Builds a SQLite store at `version`, runs `inserts` on it, opens it with today's code and hands it to `check`. */
export async function sqliteStoreFrom(version: number, inserts: readonly string[], check: (store: Store) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vws-migrate-'));
  try {
    const path = join(dir, 'vws.db');
    buildSqliteStoreAt(path, version, inserts);
    const store = await openSqliteStore(path);
    try {
      await check(store);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Builds a store at `version` in the PostgreSQL schema `schema` of the test server (created), with `inserts` run on it, and leaves it as it is. */
export async function buildPostgresStoreAt(schema: string, version: number, inserts: readonly string[] = []): Promise<void> {
  await withTestClient(schema, async (client) => {
    await client.query(SCHEMA_VERSION_TABLE.postgres);
    for (const m of MIGRATIONS.filter((x) => x.version <= version)) {
      await client.query(m.postgres);
      await client.query('INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)', [m.version, APPLIED_AT]);
    }
    for (const sql of inserts) await client.query(sql);
  });
}

/** The same on a PostgreSQL schema of its own. */
export async function postgresStoreFrom(version: number, inserts: readonly string[], check: (store: Store) => Promise<void>): Promise<void> {
  const schema = freshSchema();
  try {
    await buildPostgresStoreAt(schema, version, inserts);
    const store = await openTestPostgres(schema);
    try {
      await check(store);
    } finally {
      await store.close();
    }
  } finally {
    await dropTestSchema(schema);
  }
}
