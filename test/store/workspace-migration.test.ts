// Migration 6 gives workspaces a role, a member number and a host name. Rows from before it are of
// leases of one shape: no role, and the host name LEASE-K. On a real SQLite file and a real
// PostgreSQL schema, each built at version 5 by the released migrations themselves.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MIGRATIONS } from '../../src/store/migrations.ts';
import type { Store, WorkspaceRow } from '../../src/store/store.ts';
import { postgresStoreFrom, sqliteStoreFrom } from '../support/store-at-version.ts';

const T = 1_700_000_000;
const REQUEST = JSON.stringify({ id: 'l-0a1b2c3d-4e5f', kind: 'best-effort', arrival: T, requestedStart: null, duration: 60, nodes: 2, perNode: { cpu: 1, memoryMiB: 64, diskMiB: 0 }, preemptible: true });
const INSERTS = [
  `INSERT INTO leases (id, owner, group_name, kind, request, status, reason, planned_start, planned_end, actual_start, actual_end, nodes, usage, created_at, updated_at)
   VALUES ('l-0a1b2c3d-4e5f', 'ann', NULL, 'best-effort', '${REQUEST}', 'running', NULL, ${T}, ${T + 60}, ${T}, NULL, '["n1","n2"]', '{}', ${T}, ${T})`,
  ...[0, 1].map((i) => `INSERT INTO workspaces (lease_id, idx, node, status, mac, ip, image, console, updated_at) VALUES ('l-0a1b2c3d-4e5f', ${i}, 'n${i + 1}', 'running', '52:54:00:00:00:0${i}', NULL, NULL, NULL, ${T})`),
];

const migrated = (index: number): WorkspaceRow => ({
  leaseId: 'l-0a1b2c3d-4e5f', index, node: `n${index + 1}`, status: 'running', mac: `52:54:00:00:00:0${index}`, ip: null, image: null, console: null, updatedAt: T,
  role: null, member: null, hostname: `l-0a1b2c3d-4e5f-${index}`,
});

async function check(store: Store): Promise<void> {
  assert.equal(await store.schemaVersion(), MIGRATIONS.length);
  assert.deepEqual(await store.workspacesOf('l-0a1b2c3d-4e5f'), [migrated(0), migrated(1)]);
}

test('SQLite: workspaces from before migration 6 have no role and the host name LEASE-K', () => sqliteStoreFrom(5, INSERTS, check));

test('PostgreSQL: workspaces from before migration 6 have no role and the host name LEASE-K', () => postgresStoreFrom(5, INSERTS, check));
