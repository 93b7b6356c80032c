// The fuzz's "a refused request changes nothing" rests on the store digest (test/support/store-digest.ts):
// it must stay the same while nothing changes, and change with any row of any table.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openTestStore, STORE_KINDS } from '../support/test-stores.ts';

for (const kind of STORE_KINDS) {
  test(`${kind}: the digest holds while nothing changes and moves with any row`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vws-digest-'));
    const { store, drop, digester } = await openTestStore(kind, dir);
    const d = digester();
    try {
      await store.putUser({ id: 'alice', name: 'alice', isAdmin: false, createdAt: 1 });
      const first = await d.digest();
      const commits = await d.commits();
      assert.equal(await d.digest(), first, 'read twice, unchanged');
      await store.putUser({ id: 'alice', name: 'alice', isAdmin: false, createdAt: 1 });
      assert.equal(await d.digest(), first, 'the same row written again is the same content');
      const changes: [string, () => Promise<unknown>][] = [
        ['a field of a row', () => store.putUser({ id: 'alice', name: 'alice', isAdmin: true, createdAt: 1 })],
        ['a row of another table', () => store.rememberIdempotent('alice', 'k', 'l-1', { x: 1 })],
        ['an appended event', () => store.appendEvent({ time: 1, type: 't', leaseId: null, owner: null, group: null, data: {} })],
      ];
      let last = first;
      for (const [what, change] of changes) {
        await change();
        const now = await d.digest();
        assert.notEqual(now, last, what);
        last = now;
      }
      if (kind === 'sqlite') assert.notEqual(await d.commits(), commits, 'the commit counter moved');
      else assert.equal(commits, null);
      assert.equal((await d.counts()).users, 1);
    } finally {
      await d.close();
      await store.close();
      await drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
