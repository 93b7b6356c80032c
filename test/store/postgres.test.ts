// The Store contract against PostgresStore, each test in a schema of its own that is dropped
// afterwards. Needs a running server: it fails (it does not skip) when there is none.

import type { PostgresStore } from '../../src/store/postgres-store.ts';
import { dropTestSchema, freshSchema, openTestPostgres } from '../support/test-postgres.ts';
import { storeContract } from './store-contract.ts';

storeContract('PostgreSQL', async () => {
  const schema = freshSchema();
  const opened: PostgresStore[] = [await openTestPostgres(schema)];
  return {
    store: opened[0],
    reopen: async () => {
      opened.push(await openTestPostgres(schema));
      return opened[opened.length - 1];
    },
    cleanup: async () => {
      for (const store of opened) await store.close();
      await dropTestSchema(schema);
    },
  };
});
