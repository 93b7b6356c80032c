// A real store of either kind for a test: a SQLite file in the test's directory, or a PostgreSQL
// schema of its own (dropped afterwards) on the server the suite runs against (test-postgres.ts).

import { join } from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';
import { postgresDigest, sqliteDigest, type StoreDigest } from './store-digest.ts';
import { dropTestSchema, freshSchema, openTestPostgres, TEST_POSTGRES_URL } from './test-postgres.ts';

export type StoreKind = 'sqlite' | 'postgres';
export const STORE_KINDS: readonly StoreKind[] = ['sqlite', 'postgres'];

export const POSTGRES = TEST_POSTGRES_URL;

export interface TestStore {
  store: Store;
  /** Drops what the store made outside `dir` (a PostgreSQL schema); call it once the store is closed. */
  drop(): Promise<void>;
  /** A reader of everything the store holds, on a connection of its own (close it before drop). */
  digester(): StoreDigest;
}

export async function openTestStore(kind: StoreKind, dir: string): Promise<TestStore> {
  if (kind === 'sqlite') {
    const path = join(dir, 'vws.db');
    return { store: await openSqliteStore(path), drop: async () => {}, digester: () => sqliteDigest(path) };
  }
  const schema = freshSchema();
  return { store: await openTestPostgres(schema), drop: () => dropTestSchema(schema), digester: () => postgresDigest(schema) };
}
