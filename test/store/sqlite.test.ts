// The Store contract against SqliteStore, each test on its own file in a fresh temporary directory.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite-store.ts';
import { storeContract } from './store-contract.ts';

const root = mkdtempSync(join(tmpdir(), 'vws-sqlite-store-'));
after(() => rmSync(root, { recursive: true, force: true }));

let files = 0;

storeContract('SQLite', async () => {
  // A directory that does not exist yet: opening must create it.
  const path = join(root, `store-${++files}`, 'data', 'vws.db');
  const opened: SqliteStore[] = [await openSqliteStore(path)];
  return {
    store: opened[0],
    reopen: async () => {
      opened.push(await openSqliteStore(path));
      return opened[opened.length - 1];
    },
    cleanup: async () => {
      for (const store of opened) await store.close();
    },
  };
});

test('SQLite: the file is in WAL mode, so other processes can read while the service writes', async () => {
  const path = join(root, 'wal', 'vws.db');
  const store = await openSqliteStore(path);
  const reader = new Database(path, { readonly: true });
  try {
    assert.equal(reader.pragma('journal_mode', { simple: true }), 'wal');
  } finally {
    reader.close();
    await store.close();
  }
});
