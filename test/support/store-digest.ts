// A digest of everything a store holds, table by table, read with SQL on a connection of its own
// (read-only on SQLite): "a refused request changes nothing" is checked as equal digests before
// and after it. Every table the catalogue lists is read, so a table added later is covered
// without touching this file. The Store interface's list methods were not enough: nothing lists
// the idempotency keys, and tokens and members are reachable only user by user.
//
// Nothing is left out. The store keeps no per-request field (tokens have no last-used time, and a
// GET writes no row): a request that changes a row is one that did something.

import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { TEST_POSTGRES_URL } from './test-postgres.ts';

export interface StoreDigest {
  /** One sha256 over every table's rows. */
  digest(): Promise<string>;
  /** Rows per table, to say what changed when two digests differ. */
  tables(): Promise<Record<string, string[]>>;
  close(): Promise<void>;
}

/** Rows as canonical text (keys sorted), sorted, so that the order a table returns them in does not matter. */
function canonicalRows(rows: Record<string, unknown>[]): string[] {
  const text = (v: unknown): string => (typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? v.toString('hex') : JSON.stringify(v));
  return rows.map((r) => Object.keys(r).sort().map((k) => `${k}=${text(r[k])}`).join('\u0001')).sort();
}

function digestOf(tables: Record<string, string[]>): string {
  const hash = createHash('sha256');
  for (const name of Object.keys(tables).sort()) hash.update(`\u0002${name}\u0003${tables[name].join('\u0004')}`);
  return hash.digest('hex');
}

function fromTables(read: () => Promise<Record<string, string[]>>, close: () => Promise<void>): StoreDigest {
  return { tables: read, digest: async () => digestOf(await read()), close };
}

/** The SQLite file at `path`, read by a second connection (WAL: it sees what the store committed). */
export function sqliteDigest(path: string): StoreDigest {
  // Opened on first use: most tests of a world never digest it.
  let db: Database.Database | null = null;
  const read = async (): Promise<Record<string, string[]>> => {
    db ??= new Database(path, { readonly: true, fileMustExist: true });
    const names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    // One read transaction for all tables: a snapshot.
    return db.transaction(() => Object.fromEntries(names.map((t) => [t, canonicalRows(db!.prepare(`SELECT * FROM "${t}"`).all() as Record<string, unknown>[])])))();
  };
  return fromTables(read, async () => void db?.close());
}

/** The PostgreSQL schema `schema` on the test server. */
export function postgresDigest(schema: string): StoreDigest {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  // Connected on first use: most tests of a world never digest it.
  let connected: Promise<unknown> | null = null;
  const read = async (): Promise<Record<string, string[]>> => {
    await (connected ??= client.connect());
    const { rows } = await client.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name", [schema]);
    const out: Record<string, string[]> = {};
    // One snapshot for all tables, so that a write committed between two tables' reads is seen whole or not at all.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      for (const { table_name: t } of rows) out[t] = canonicalRows((await client.query(`SELECT * FROM "${schema}"."${t}"`)).rows);
    } finally {
      await client.query('COMMIT');
    }
    return out;
  };
  return fromTables(read, async () => {
    if (connected) await client.end();
  });
}
