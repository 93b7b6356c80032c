// The schema, as an ordered list of migrations, and the one procedure both stores use to apply
// them. A migration is never edited once released: change the schema by appending a new one.
//
// Text keys that are listed or paged in order are COLLATE "C" in PostgreSQL so that both stores
// order them the same way (by code point), whatever the database's default collation is.

import { TRUST_TABLES } from './trust-records.ts';
import { CONTEXT_TABLES, EC2_TABLES, LEADERSHIP_TABLES } from './migration-tables.ts';

export interface Migration {
  version: number;
  sqlite: string;
  postgres: string;
}

/** Migration 4, the same in both dialects. */
const IMAGE_VISIBILITY = `
  ALTER TABLE images ADD COLUMN group_name TEXT;
  ALTER TABLE images ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public' CHECK (visibility IN ('private', 'group', 'public'));
  CREATE INDEX images_by_sha256 ON images (sha256);
`;


/** Migration 6, the same in both dialects. */
const WORKSPACE_ROLES = `
  ALTER TABLE workspaces ADD COLUMN role TEXT;
  ALTER TABLE workspaces ADD COLUMN member INTEGER;
  ALTER TABLE workspaces ADD COLUMN hostname TEXT;
  UPDATE workspaces SET hostname = substr(lower(lease_id), 1, 50) || '-' || idx;
`;



export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sqlite: `
      CREATE TABLE users (
        id         TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        is_admin   INTEGER NOT NULL CHECK (is_admin IN (0, 1)),
        created_at INTEGER NOT NULL
      );
      CREATE TABLE user_groups (
        name         TEXT PRIMARY KEY,
        share_leases INTEGER NOT NULL CHECK (share_leases IN (0, 1)),
        created_at   INTEGER NOT NULL
      );
      CREATE TABLE group_members (
        group_name TEXT NOT NULL REFERENCES user_groups (name) ON DELETE CASCADE,
        user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        PRIMARY KEY (group_name, user_id)
      );
      CREATE INDEX group_members_by_user ON group_members (user_id);
      CREATE TABLE tokens (
        id         TEXT PRIMARY KEY,
        user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        hash       TEXT NOT NULL UNIQUE,
        label      TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER
      );
      CREATE INDEX tokens_by_user ON tokens (user_id);
      CREATE TABLE inputs (
        seq  INTEGER PRIMARY KEY AUTOINCREMENT,
        time INTEGER NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL
      );
      CREATE TABLE leases (
        id            TEXT PRIMARY KEY,
        owner         TEXT NOT NULL,
        group_name    TEXT,
        kind          TEXT NOT NULL,
        request       TEXT NOT NULL,
        status        TEXT NOT NULL,
        reason        TEXT,
        planned_start INTEGER,
        planned_end   INTEGER,
        actual_start  INTEGER,
        actual_end    INTEGER,
        nodes         TEXT NOT NULL,
        usage         TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
      );
      CREATE INDEX leases_by_status ON leases (status, id);
      CREATE INDEX leases_by_owner ON leases (owner, id);
      CREATE TABLE workspaces (
        lease_id   TEXT NOT NULL REFERENCES leases (id) ON DELETE CASCADE,
        idx        INTEGER NOT NULL,
        node       TEXT,
        status     TEXT NOT NULL,
        mac        TEXT NOT NULL,
        ip         TEXT,
        image      TEXT,
        console    TEXT,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (lease_id, idx)
      );
      CREATE INDEX workspaces_by_node ON workspaces (node);
      CREATE TABLE nodes (
        id         TEXT PRIMARY KEY,
        cpu        REAL NOT NULL,
        memory_mib REAL NOT NULL,
        disk_mib   REAL NOT NULL,
        status     TEXT NOT NULL,
        added_at   INTEGER NOT NULL
      );
      CREATE TABLE images (
        name       TEXT PRIMARY KEY,
        size_mib   REAL NOT NULL,
        sha256     TEXT NOT NULL,
        owner      TEXT NOT NULL,
        uploaded   INTEGER NOT NULL CHECK (uploaded IN (0, 1)),
        created_at INTEGER NOT NULL
      );
      CREATE TABLE events (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        time       INTEGER NOT NULL,
        type       TEXT NOT NULL,
        lease_id   TEXT,
        owner      TEXT,
        group_name TEXT,
        data       TEXT NOT NULL
      );
      CREATE TABLE idempotency_keys (
        owner    TEXT NOT NULL,
        key      TEXT NOT NULL,
        lease_id TEXT NOT NULL,
        response TEXT NOT NULL,
        PRIMARY KEY (owner, key)
      );
    `,
    postgres: `
      CREATE TABLE users (
        id         TEXT COLLATE "C" PRIMARY KEY,
        name       TEXT NOT NULL,
        is_admin   BOOLEAN NOT NULL,
        created_at BIGINT NOT NULL
      );
      CREATE TABLE user_groups (
        name         TEXT COLLATE "C" PRIMARY KEY,
        share_leases BOOLEAN NOT NULL,
        created_at   BIGINT NOT NULL
      );
      CREATE TABLE group_members (
        group_name TEXT COLLATE "C" NOT NULL REFERENCES user_groups (name) ON DELETE CASCADE,
        user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        PRIMARY KEY (group_name, user_id)
      );
      CREATE INDEX group_members_by_user ON group_members (user_id);
      CREATE TABLE tokens (
        id         TEXT COLLATE "C" PRIMARY KEY,
        user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        hash       TEXT NOT NULL UNIQUE,
        label      TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT
      );
      CREATE INDEX tokens_by_user ON tokens (user_id);
      CREATE TABLE inputs (
        seq  BIGSERIAL PRIMARY KEY,
        time BIGINT NOT NULL,
        type TEXT NOT NULL,
        data JSONB NOT NULL
      );
      CREATE TABLE leases (
        id            TEXT COLLATE "C" PRIMARY KEY,
        owner         TEXT NOT NULL,
        group_name    TEXT,
        kind          TEXT NOT NULL,
        request       JSONB NOT NULL,
        status        TEXT NOT NULL,
        reason        JSONB,
        planned_start BIGINT,
        planned_end   BIGINT,
        actual_start  BIGINT,
        actual_end    BIGINT,
        nodes         JSONB NOT NULL,
        usage         JSONB NOT NULL,
        created_at    BIGINT NOT NULL,
        updated_at    BIGINT NOT NULL
      );
      CREATE INDEX leases_by_status ON leases (status, id);
      CREATE INDEX leases_by_owner ON leases (owner, id);
      CREATE TABLE workspaces (
        lease_id   TEXT COLLATE "C" NOT NULL REFERENCES leases (id) ON DELETE CASCADE,
        idx        INTEGER NOT NULL,
        node       TEXT,
        status     TEXT NOT NULL,
        mac        TEXT NOT NULL,
        ip         TEXT,
        image      TEXT,
        console    TEXT,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (lease_id, idx)
      );
      CREATE INDEX workspaces_by_node ON workspaces (node);
      CREATE TABLE nodes (
        id         TEXT COLLATE "C" PRIMARY KEY,
        cpu        DOUBLE PRECISION NOT NULL,
        memory_mib DOUBLE PRECISION NOT NULL,
        disk_mib   DOUBLE PRECISION NOT NULL,
        status     TEXT NOT NULL,
        added_at   BIGINT NOT NULL
      );
      CREATE TABLE images (
        name       TEXT COLLATE "C" PRIMARY KEY,
        size_mib   DOUBLE PRECISION NOT NULL,
        sha256     TEXT NOT NULL,
        owner      TEXT NOT NULL,
        uploaded   BOOLEAN NOT NULL,
        created_at BIGINT NOT NULL
      );
      CREATE TABLE events (
        id         BIGSERIAL PRIMARY KEY,
        time       BIGINT NOT NULL,
        type       TEXT NOT NULL,
        lease_id   TEXT,
        owner      TEXT,
        group_name TEXT,
        data       JSONB NOT NULL
      );
      CREATE TABLE idempotency_keys (
        owner    TEXT NOT NULL,
        key      TEXT NOT NULL,
        lease_id TEXT NOT NULL,
        response JSONB NOT NULL,
        PRIMARY KEY (owner, key)
      );
    `,
  },
  {
    // How to boot an image that is a disk without a boot loader: a kernel and an initrd (both images too) and a command line.
    version: 2,
    sqlite: 'ALTER TABLE images ADD COLUMN boot TEXT',
    postgres: 'ALTER TABLE images ADD COLUMN boot JSONB',
  },
  {
    // A disabled user's tokens all stop at once, without deleting the user or what it owns.
    version: 3,
    sqlite: 'ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))',
    postgres: 'ALTER TABLE users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT false',
  },
  {
    // Images get a group and a visibility. Every image registered before was seen and used by
    // everyone, so they stay public (the default here); the stores write the column on every
    // row they keep, and the API registers new images private unless asked otherwise. Content
    // is looked up by hash to decide whether a new registration may share stored content.
    version: 4,
    sqlite: IMAGE_VISIBILITY,
    postgres: IMAGE_VISIBILITY,
  },
  {
    // The context broker keeps each cluster's members and their progress, so that a restart in
    // the middle of a deployment picks up where it was; its Ed25519 key is made once and kept,
    // since every guest's seed carries the public half.
    version: 5,
    sqlite: CONTEXT_TABLES('TEXT', 'INTEGER', 'TEXT'),
    postgres: CONTEXT_TABLES('TEXT COLLATE "C"', 'BIGINT', 'JSONB'),
  },
  {
    // A cluster's VMs carry their role and member number, and every VM its host name. Rows kept
    // before are of leases of one shape: no role, and a host name LEASE-K (lower case; ids the API
    // made are DNS letters already), which the service writes anew as it next hears of the VM.
    version: 6,
    sqlite: WORKSPACE_ROLES,
    postgres: WORKSPACE_ROLES,
  },
  {
    // The EC2-compatible front-end: per-user access keys (the secret sealed by the server's key),
    // key pairs and tags per user, and RunInstances' ClientTokens, so that a retried launch makes
    // no second lease, across restarts too.
    version: 7,
    sqlite: EC2_TABLES('TEXT', 'INTEGER'),
    postgres: EC2_TABLES('TEXT COLLATE "C"', 'BIGINT'),
  },
  {
    // Images get a description (the appliance catalogue's entry: version, OS, maintainer, minimum
    // resources, what they provide and require, format). Images registered before have none.
    version: 8,
    sqlite: 'ALTER TABLE images ADD COLUMN description TEXT',
    postgres: 'ALTER TABLE images ADD COLUMN description JSONB',
  },
  {
    // The image trust policy: the signers a site trusts (and for which claims), its requirement,
    // and the signed statements attached to images, in tables of their own (an image's go with it).
    version: 9,
    sqlite: TRUST_TABLES('TEXT', 'INTEGER'),
    postgres: TRUST_TABLES('TEXT COLLATE "C"', 'BIGINT'),
  },
  {
    // Several servers on one PostgreSQL store: who leads and under which fencing token (epoch),
    // and until when its leadership holds unless renewed (src/store/postgres-leadership.ts). Two
    // rows in two tables: a takeover changes the first, renewals touch only the second.
    // SQLite stores have one server (a file lock), and the tables stay empty there.
    version: 10,
    sqlite: LEADERSHIP_TABLES('INTEGER'),
    postgres: LEADERSHIP_TABLES('TIMESTAMPTZ'),
  },
  {
    // A lease's row says where it runs and what it had been charged when it was written, so that a
    // follower answers reads from the store as the leader would (both were known only to the
    // leader's memory). Rows written before have neither until the leader next writes them.
    version: 11,
    sqlite: 'ALTER TABLE leases ADD COLUMN backend TEXT; ALTER TABLE leases ADD COLUMN charge TEXT;',
    postgres: 'ALTER TABLE leases ADD COLUMN backend TEXT; ALTER TABLE leases ADD COLUMN charge JSONB;',
  },
  {
    // Nodes brought by pilot jobs (a batch system's nodes, lent for a job's time): when each
    // leaves the pool, and which job brought it. Nodes of the site's own have neither.
    version: 12,
    sqlite: 'ALTER TABLE nodes ADD COLUMN departs_at INTEGER; ALTER TABLE nodes ADD COLUMN pilot TEXT;',
    postgres: 'ALTER TABLE nodes ADD COLUMN departs_at BIGINT; ALTER TABLE nodes ADD COLUMN pilot TEXT;',
  },
  {
    // Network bandwidth is leased as CPUs and memory are: a node says how much it shares among its
    // VMs. Nodes added before lease none (null), as before.
    version: 13,
    sqlite: 'ALTER TABLE nodes ADD COLUMN bandwidth_mbps REAL;',
    postgres: 'ALTER TABLE nodes ADD COLUMN bandwidth_mbps DOUBLE PRECISION;',
  },
];

export const LATEST_VERSION = MIGRATIONS.reduce((latest, m) => Math.max(latest, m.version), 0);

/** Holds one row per applied migration; created outside the numbered list so it can record them. */
export const SCHEMA_VERSION_TABLE = {
  sqlite: 'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)',
  postgres: 'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
} as const;

/** What applyMigrations needs from a store, in the store's own dialect. */
export interface MigrationTarget {
  dialect: 'sqlite' | 'postgres';
  /**
   * Runs fn in one transaction that no other migrator can interleave with, so the version read
   * inside it is still true when the migration's DDL runs.
   */
  exclusively(fn: () => Promise<void>): Promise<void>;
  exec(sql: string): Promise<void>;
  /** The highest applied version, 0 when none (or when schema_version does not exist yet). */
  appliedVersion(): Promise<number>;
  recordVersion(version: number, appliedAt: number): Promise<void>;
}

/** Applies every migration newer than the applied version, each in its own transaction. */
export async function applyMigrations(target: MigrationTarget): Promise<void> {
  checkOrdered(MIGRATIONS);
  const applied = await target.appliedVersion();
  if (applied > LATEST_VERSION) {
    throw new Error(`the store is at schema version ${applied}, and this vws knows versions up to ${LATEST_VERSION}: a newer vws has used it; run that version (or a newer one) against this store`);
  }
  await target.exclusively(() => target.exec(SCHEMA_VERSION_TABLE[target.dialect]));
  for (const migration of MIGRATIONS) {
    await target.exclusively(async () => {
      // Re-read inside the lock: another migrator may have applied it since we last looked.
      if ((await target.appliedVersion()) >= migration.version) return;
      await target.exec(migration[target.dialect]);
      await target.recordVersion(migration.version, Math.floor(Date.now() / 1000));
    });
  }
}

function checkOrdered(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new Error(`migration at position ${i} has version ${m.version}; versions must be 1, 2, 3, ... in order — fix MIGRATIONS in src/store/migrations.ts`);
    }
  });
}
