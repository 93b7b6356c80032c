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
  /** One value over every table's content: equal digests, equal content. */
  digest(): Promise<string>;
  /**
   * A number that changes whenever anything is committed to the store (SQLite's data_version),
   * cheap enough to read around every request; null where the store has none.
   */
  commits(): Promise<number | null>;
  /** Rows per table, to say where two digests differ. */
  counts(): Promise<Record<string, number>>;
  /** One value per table: which tables two digests differ in. */
  tables(): Promise<Record<string, string>>;
  close(): Promise<void>;
}

const text = (v: unknown): string => (typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? v.toString('hex') : JSON.stringify(v) ?? 'undefined');

/** `SELECT *` sorted by every column: two reads of the same content agree whatever the rows' physical order. */
const sortedSelect = (qualified: string, columns: number): string => `SELECT * FROM ${qualified} ORDER BY ${Array.from({ length: columns }, (_, i) => i + 1).join(', ')}`;

/** The SQLite file at `path`, read by a second connection (WAL: it sees what the store committed). */
export function sqliteDigest(path: string): StoreDigest {
  // Opened on first use: most tests of a world never digest it.
  let opened: Database.Database | null = null;
  const db = (): Database.Database => (opened ??= new Database(path, { readonly: true, fileMustExist: true }));
  const tables = (): string[] => (db().prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
  const tableHash = (t: string): string => {
    const hash = createHash('sha256');
    const columns = (db().prepare(`PRAGMA table_info("${t}")`).all() as { name: string }[]).map((c) => c.name);
    hash.update(`\u0002${t}\u0003${columns.join()}`);
    for (const row of db().prepare(sortedSelect(`"${t}"`, columns.length)).raw().iterate() as Iterable<unknown[]>) hash.update(`\u0004${row.map(text).join('\u0001')}`);
    return hash.digest('hex');
  };
  const readAll = (): string => createHash('sha256').update(tables().map(tableHash).join()).digest('hex');
  return {
    // One read transaction for all tables: a snapshot.
    digest: async () => db().transaction(readAll)(),
    commits: async () => db().pragma('data_version', { simple: true }) as number,
    counts: async () => Object.fromEntries(tables().map((t) => [t, (db().prepare(`SELECT count(*) AS n FROM "${t}"`).get() as { n: number }).n])),
    tables: async () => db().transaction(() => Object.fromEntries(tables().map((t) => [t, tableHash(t)])))(),
    close: async () => void opened?.close(),
  };
}

/**
 * The PostgreSQL schema `schema` on the test server. Rows are hashed by the server (each row's
 * text through hashtextextended, summed: the order of rows does not matter), so that a digest
 * costs one round trip per table rather than the whole store over the wire.
 */
export function postgresDigest(schema: string): StoreDigest {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  // Connected on first use: most tests of a world never digest it.
  let connected: Promise<unknown> | null = null;
  const tables = async (): Promise<string[]> => {
    await (connected ??= client.connect());
    const { rows } = await client.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name", [schema]);
    return rows.map((r) => r.table_name);
  };
  const perTable = async (select: (qualified: string) => string): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    // One snapshot for all tables, so that a write committed between two tables' reads is seen whole or not at all.
    await (connected ??= client.connect());
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      for (const t of await tables()) out[t] = text((await client.query({ text: select(`"${schema}"."${t}"`), rowMode: 'array' })).rows[0][0]);
    } finally {
      await client.query('COMMIT');
    }
    return out;
  };
  const sums = (): Promise<Record<string, string>> => perTable((q) => `SELECT count(*)::text || ':' || coalesce(sum(hashtextextended(x::text, 0)), 0)::text FROM ${q} AS x`);
  return {
    digest: async () => createHash('sha256').update(JSON.stringify(await sums())).digest('hex'),
    tables: sums,
    commits: async () => null,
    counts: async () => Object.fromEntries(Object.entries(await perTable((q) => `SELECT count(*) FROM ${q}`)).map(([t, n]) => [t, Number(JSON.parse(n))])),
    close: async () => {
      if (connected) await client.end();
    },
  };
}
