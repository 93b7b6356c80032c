// A store opened to read only (a replay of a live site's log): it reads what the store holds, a
// write is refused by the database itself, and nothing is created where there is no store.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStoreToRead } from '../../src/store/open-store.ts';
import { openSqliteStore } from '../../src/store/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';
import { postgresDigest, sqliteDigest, type StoreDigest } from '../support/store-digest.ts';
import { dropTestSchema, freshSchema, openTestPostgres, TEST_POSTGRES_URL } from '../support/test-postgres.ts';
import { STORE_KINDS, type StoreKind } from '../support/test-stores.ts';

/** A store of `kind`, and where a replay would name it. */
async function storeOf(kind: StoreKind, dir: string): Promise<{ store: Store; where: string; digest: StoreDigest; drop: () => Promise<void> }> {
  if (kind === 'sqlite') {
    const where = join(dir, 'vws.db');
    return { store: await openSqliteStore(where), where, digest: sqliteDigest(where), drop: async () => {} };
  }
  const schema = freshSchema();
  return { store: await openTestPostgres(schema), where: `${TEST_POSTGRES_URL}?schema=${schema}`, digest: postgresDigest(schema), drop: () => dropTestSchema(schema) };
}

for (const kind of STORE_KINDS) {
  test(`${kind}: a store opened to read only reads the log and refuses to write`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vws-read-only-'));
    const t = await storeOf(kind, dir);
    try {
      await t.store.appendInput({ time: 10, type: 'tick', data: { type: 'tick' } });
      const before = await t.digest.digest();
      const reader = openStoreToRead(t.where);
      try {
        assert.deepEqual((await reader.inputs()).map((r) => [r.time, r.type]), [[10, 'tick']]);
        await assert.rejects(reader.appendInput({ time: 11, type: 'tick', data: { type: 'tick' } }), /readonly|read-only/);
      } finally {
        await reader.close();
      }
      assert.equal(await t.digest.digest(), before);
    } finally {
      await t.digest.close();
      await t.store.close();
      await t.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('sqlite: a file that is not there is not created', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-read-only-'));
  try {
    assert.throws(() => openStoreToRead(join(dir, 'vws.db')));
    assert.equal(existsSync(join(dir, 'vws.db')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
