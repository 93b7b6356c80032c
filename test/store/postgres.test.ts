// The Store contract against PostgresStore, each test in a schema of its own that is dropped
// afterwards. Needs a running server: it fails (it does not skip) when there is none.

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres-store.ts';
import { storeContract } from './store-contract.ts';

const url = process.env.VWS_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

storeContract('PostgreSQL', async () => {
  const schema = `vws_test_${process.pid}_${randomBytes(6).toString('hex')}`;
  const opened: PostgresStore[] = [await openOrExplain(schema)];
  return {
    store: opened[0],
    reopen: async () => {
      opened.push(await openOrExplain(schema));
      return opened[opened.length - 1];
    },
    cleanup: async () => {
      for (const store of opened) await store.close();
      await dropSchema(schema);
    },
  };
});

async function openOrExplain(schema: string): Promise<PostgresStore> {
  try {
    return await openPostgresStore(url, { schema });
  } catch (error) {
    throw new Error(
      `could not open a PostgreSQL store at ${url} (schema ${schema}): ${(error as Error).message}. ` +
        'These tests need a running server: start it (e.g. `pg_ctlcluster 15 main start` or `service postgresql start`), ' +
        'make sure the database exists (`createdb -h 127.0.0.1 -U postgres test`), ' +
        'or set VWS_TEST_POSTGRES to the URL of one that works.',
      { cause: error },
    );
  }
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
