// Migration 4 gives images a group and a visibility. Images registered before it were seen and
// used by every user, so they come out public, with no group: nothing a user leased before stops
// working. Migration 8 gives them no description (null). On a real SQLite file and a real
// PostgreSQL schema, each built at version 3 by the released migrations themselves.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MIGRATIONS } from '../../src/store/migrations.ts';
import type { ImageRow, Store } from '../../src/store/store.ts';
import { postgresStoreFrom, sqliteStoreFrom } from '../support/store-at-version.ts';

const T = 1_700_000_000;
const INSERT_V3_IMAGE = "INSERT INTO images (name, size_mib, sha256, owner, uploaded, created_at, boot) VALUES ('old.img', 10, '" + 'ab'.repeat(32) + "', 'ann', $UPLOADED, " + T + ', NULL)';

const migrated: ImageRow = { name: 'old.img', sizeMiB: 10, sha256: 'ab'.repeat(32), owner: 'ann', group: null, visibility: 'public', uploaded: true, createdAt: T, boot: null, description: null };

async function check(store: Store): Promise<void> {
  assert.equal(await store.schemaVersion(), MIGRATIONS.length);
  assert.deepEqual(await store.getImage('old.img'), migrated);
  assert.deepEqual(await store.imagesWithSha256('ab'.repeat(32)), [migrated]);
}

test('SQLite: images from before migration 4 are public, with no group', () => sqliteStoreFrom(3, [INSERT_V3_IMAGE.replace('$UPLOADED', '1')], check));

test('PostgreSQL: images from before migration 4 are public, with no group', () => postgresStoreFrom(3, [INSERT_V3_IMAGE.replace('$UPLOADED', 'true')], check));
