// One server per SQLite store: the claim is an operating-system lock, not a process id checked
// for life (a dead server's id reused by another process kept the store claimed).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SqliteStore } from '../../src/store/sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'vws-claim-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a second claim on one store is refused, naming the holder, until the first store closes', async () => {
  const path = join(dir, 'a.db');
  const first = new SqliteStore(path);
  const second = new SqliteStore(path);
  try {
    assert.equal(await first.claimForServer(), null);
    assert.match((await second.claimForServer()) ?? '', new RegExp(`another vws serve \\(process ${process.pid}\\) is running on .*a\\.db: stop it first`));
    await first.close();
    assert.equal(await second.claimForServer(), null, 'the claim went with the store that held it');
  } finally {
    await first.close();
    await second.close();
  }
});

test('a claim file left naming a process that is alive but holds no lock does not keep the store claimed', async () => {
  const path = join(dir, 'b.db');
  // Process 1 is alive and is not a vws server: what a dead server's reused process id looks like.
  writeFileSync(`${path}.server`, '1\n');
  const store = new SqliteStore(path);
  try {
    assert.equal(await store.claimForServer(), null);
  } finally {
    await store.close();
  }
});
