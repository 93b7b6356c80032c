// A real store of either kind for a test: a SQLite file in the test's directory, or a PostgreSQL
// schema of its own (dropped afterwards) on the server the suite runs against.

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { openPostgresStore } from '../../src/store/postgres-store.ts';
import { openSqliteStore } from '../../src/store/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';

export type StoreKind = 'sqlite' | 'postgres';
export const STORE_KINDS: readonly StoreKind[] = ['sqlite', 'postgres'];

export const POSTGRES = process.env.VWS_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestStore {
  store: Store;
  /** Drops what the store made outside `dir` (a PostgreSQL schema); call it once the store is closed. */
  drop(): Promise<void>;
}

export async function openTestStore(kind: StoreKind, dir: string): Promise<TestStore> {
  if (kind === 'sqlite') return { store: await openSqliteStore(join(dir, 'vws.db')), drop: async () => {} };
  const schema = `vws_test_${process.pid}_${randomBytes(6).toString('hex')}`;
  const store = await openPostgresStore(POSTGRES, { schema });
  return {
    store,
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
