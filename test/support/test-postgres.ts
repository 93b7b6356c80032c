// A PostgreSQL store of its own for one test: a fresh schema on the test server, dropped
// afterwards. Needs a running server: it fails (it does not skip) when there is none.

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres-store.ts';

export const TEST_POSTGRES_URL = process.env.VWS_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A schema name no other test or process uses. */
export const freshSchema = (): string => `vws_test_${process.pid}_${randomBytes(6).toString('hex')}`;

export async function openTestPostgres(schema: string): Promise<PostgresStore> {
  try {
    return await openPostgresStore(TEST_POSTGRES_URL, { schema });
  } catch (error) {
    throw new Error(
      `could not open a PostgreSQL store at ${TEST_POSTGRES_URL} (schema ${schema}): ${(error as Error).message}. ` +
        'These tests need a running server: start it (e.g. `pg_ctlcluster 15 main start` or `service postgresql start`), ' +
        'make sure the database exists (`createdb -h 127.0.0.1 -U postgres test`), ' +
        'or set VWS_TEST_POSTGRES to the URL of one that works.',
      { cause: error },
    );
  }
}

/** Runs fn on a client of the test server whose search path is `schema` (created if missing). */
export async function withTestClient<T>(schema: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(`SET search_path TO "${schema}"`);
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function dropTestSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
