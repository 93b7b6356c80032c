// The Store on one SQLite file through better-sqlite3. The driver is synchronous and there is a
// single connection, so transaction() owns that connection while it is open: calls made inside
// it (recognised through AsyncLocalStorage) run straight away, calls from anywhere else wait
// until it ends rather than slipping into it.

import { AsyncLocalStorage } from 'node:async_hooks';
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteClaim } from './sqlite-claim.ts';
import { brokerKeyFrom, checkLimit, contextMemberColumns, contextMemberFrom, imageColumns, imageFrom, json, leaseColumns, leaseFrom, mapped, nodeColumns, nodeFrom, tokenFrom, workspaceColumns, workspaceFrom } from './columns.ts';
import { applyMigrations } from './migrations.ts';
import type {
  BrokerKeyRow, ContextMemberRow, ContextRow, EventRow, GroupRow, ImageRow, InputRow, LeaseFilter, LeaseRow, LeaseStatus, NodeRow, Store, TokenRow, UserRow,
  WorkspaceRow,
} from './store.ts';
import { SqliteTrustRecords } from './sqlite-trust.ts';

/** A row as better-sqlite3 returns it (the driver boundary); the to* functions below type it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the database driver's rows are untyped; the functions below give them types
type Row = Record<string, any>;
type SqlValue = string | number | null;

/** How long a write waits for another process's lock on the file before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

interface OpenTransaction {
  /** Resolves when the transaction has committed or rolled back. */
  ended: Promise<void>;
}

export class SqliteStore extends SqliteTrustRecords implements Store {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly context = new AsyncLocalStorage<OpenTransaction>();
  private open: OpenTransaction | null = null;

  /**
   * `readOnly`: reads the file as it is, beside a server that may be writing it (a replay): the
   * file must exist, nothing is created, chmodded or migrated, and any write fails.
   */
  constructor(readonly path: string, options: { readOnly?: boolean } = {}) {
    super();
    if (options.readOnly) {
      this.db = new Database(path, { readonly: true, fileMustExist: true });
      return;
    }
    privateFile(path);
    this.db = new Database(path);
    // WAL lets readers in other processes (backups, an admin's sqlite3) run while we write.
    const mode = this.db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') {
      this.db.close();
      throw new Error(`${path}: SQLite would not switch to WAL (journal_mode is ${String(mode)}); put the store on a local filesystem`);
    }
    this.db.pragma('foreign_keys = ON');
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  }

  async migrate(): Promise<void> {
    await applyMigrations({
      dialect: 'sqlite',
      // BEGIN IMMEDIATE takes the file's write lock, which excludes migrators in other processes too.
      exclusively: (fn) => this.transaction(fn),
      exec: async (sql) => { await this.use(() => this.db.exec(sql)); },
      appliedVersion: () => this.schemaVersion(),
      recordVersion: async (version, appliedAt) => {
        await this.run('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)', version, appliedAt);
      },
    });
  }

  async schemaVersion(): Promise<number> {
    const table = await this.one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
    if (!table) return 0;
    return (await this.one('SELECT COALESCE(MAX(version), 0) AS version FROM schema_version'))!.version;
  }

  /** The server's hold on the store, while this store has it. */
  private claim: SqliteClaim | null = null;

  leadership(): null {
    return null;
  }

  async claimForServer(): Promise<string | null> {
    if (this.claim) return null;
    const taken = SqliteClaim.take(this.path);
    if (!(taken instanceof SqliteClaim)) {
      const who = taken.heldBy === null ? '' : ` (process ${taken.heldBy})`;
      return `another vws serve${who} is running on ${this.path}: stop it first, or give this one another --data (several servers share a PostgreSQL store, not a SQLite file)`;
    }
    this.claim = taken;
    return null;
  }

  async close(): Promise<void> {
    this.claim?.release();
    this.claim = null;
    if (this.db.open) this.db.close();
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    if (this.insideOpenTransaction()) {
      throw new Error('transaction() was called inside another transaction() on the same store; calls must not nest — run the inner work directly in the outer transaction');
    }
    while (this.open) await this.open.ended;
    // Nothing may await between the check above and taking the connection here.
    this.db.exec('BEGIN IMMEDIATE');
    let end!: () => void;
    const tx: OpenTransaction = { ended: new Promise((resolve) => { end = resolve; }) };
    this.open = tx;
    try {
      const result = await this.context.run(tx, fn);
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      // SQLite rolls back by itself after some errors (a full disk, say); a second ROLLBACK would throw.
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw error;
    } finally {
      this.open = null;
      end();
    }
  }

  async putUser(u: UserRow): Promise<void> {
    await this.upsert('users', ['id'], { id: u.id, name: u.name, is_admin: flag(u.isAdmin), created_at: u.createdAt, disabled: flag(u.disabled ?? false) });
  }
  async getUser(id: string): Promise<UserRow | null> {
    return mapped(await this.one('SELECT * FROM users WHERE id = ?', id), toUser);
  }
  async listUsers(): Promise<UserRow[]> {
    return (await this.all('SELECT * FROM users ORDER BY id')).map(toUser);
  }

  async putGroup(g: GroupRow): Promise<void> {
    await this.upsert('user_groups', ['name'], { name: g.name, share_leases: flag(g.shareLeases), created_at: g.createdAt });
  }
  async getGroup(name: string): Promise<GroupRow | null> {
    return mapped(await this.one('SELECT * FROM user_groups WHERE name = ?', name), toGroup);
  }
  async listGroups(): Promise<GroupRow[]> {
    return (await this.all('SELECT * FROM user_groups ORDER BY name')).map(toGroup);
  }
  async addMember(group: string, userId: string): Promise<void> {
    await this.run('INSERT INTO group_members (group_name, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING', group, userId);
  }
  async removeMember(group: string, userId: string): Promise<void> {
    await this.run('DELETE FROM group_members WHERE group_name = ? AND user_id = ?', group, userId);
  }
  async groupsOf(userId: string): Promise<string[]> {
    const rows = await this.all('SELECT group_name FROM group_members WHERE user_id = ? ORDER BY group_name', userId);
    return rows.map((r) => r.group_name);
  }
  async membersOf(group: string): Promise<string[]> {
    const rows = await this.all('SELECT user_id FROM group_members WHERE group_name = ? ORDER BY user_id', group);
    return rows.map((r) => r.user_id);
  }

  async putToken(t: TokenRow): Promise<void> {
    await this.upsert('tokens', ['id'], {
      id: t.id, user_id: t.userId, hash: t.hash, label: t.label, created_at: t.createdAt, expires_at: t.expiresAt,
    });
  }
  async tokenByHash(hash: string): Promise<TokenRow | null> {
    return mapped(await this.one('SELECT * FROM tokens WHERE hash = ?', hash), tokenFrom);
  }
  async tokensOf(userId: string): Promise<TokenRow[]> {
    return (await this.all('SELECT * FROM tokens WHERE user_id = ? ORDER BY created_at, id', userId)).map(tokenFrom);
  }
  async deleteToken(id: string): Promise<boolean> {
    return (await this.run('DELETE FROM tokens WHERE id = ?', id)).changes > 0;
  }

  async appendInput(input: Omit<InputRow, 'seq'>): Promise<number> {
    const result = await this.run('INSERT INTO inputs (time, type, data) VALUES (?, ?, ?)', input.time, input.type, json(input.data));
    return Number(result.lastInsertRowid);
  }
  async inputs(afterSeq = 0): Promise<InputRow[]> {
    const rows = await this.all('SELECT * FROM inputs WHERE seq > ? ORDER BY seq', afterSeq);
    return rows.map((r) => ({ seq: r.seq, time: r.time, type: r.type, data: JSON.parse(r.data) }));
  }

  async putLease(l: LeaseRow): Promise<void> {
    await this.upsert('leases', ['id'], leaseColumns(l));
  }
  async getLease(id: string): Promise<LeaseRow | null> {
    return mapped(await this.one('SELECT * FROM leases WHERE id = ?', id), (r) => leaseFrom(r, parseJson));
  }
  async listLeases(filter: LeaseFilter = {}): Promise<LeaseRow[]> {
    const { sql, params } = leaseQuery(filter);
    return (await this.all(sql, ...params)).map((r) => leaseFrom(r, parseJson));
  }
  async countLeasesByStatus(): Promise<Partial<Record<LeaseStatus, number>>> {
    const rows = await this.all('SELECT status, COUNT(*) AS n FROM leases GROUP BY status');
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  async putWorkspace(w: WorkspaceRow): Promise<void> {
    await this.upsert('workspaces', ['lease_id', 'idx'], workspaceColumns(w));
  }
  async workspacesOf(leaseId: string): Promise<WorkspaceRow[]> {
    return (await this.all('SELECT * FROM workspaces WHERE lease_id = ? ORDER BY idx', leaseId)).map(workspaceFrom);
  }
  async workspacesOn(node: string): Promise<WorkspaceRow[]> {
    return (await this.all('SELECT * FROM workspaces WHERE node = ? ORDER BY lease_id, idx', node)).map(workspaceFrom);
  }

  async putNode(n: NodeRow): Promise<void> {
    await this.upsert('nodes', ['id'], nodeColumns(n));
  }
  async getNode(id: string): Promise<NodeRow | null> {
    return mapped(await this.one('SELECT * FROM nodes WHERE id = ?', id), nodeFrom);
  }
  async listNodes(): Promise<NodeRow[]> {
    return (await this.all('SELECT * FROM nodes ORDER BY id')).map(nodeFrom);
  }

  async putImage(i: ImageRow): Promise<void> {
    await this.upsert('images', ['name'], imageColumns(i, flag));
  }
  async getImage(name: string): Promise<ImageRow | null> {
    return mapped(await this.one('SELECT * FROM images WHERE name = ?', name), (r) => imageFrom(r, parseJson));
  }
  async listImages(): Promise<ImageRow[]> {
    return (await this.all('SELECT * FROM images ORDER BY name')).map((r) => imageFrom(r, parseJson));
  }
  async imagesWithSha256(sha256: string): Promise<ImageRow[]> {
    return (await this.all('SELECT * FROM images WHERE sha256 = ? ORDER BY name', sha256)).map((r) => imageFrom(r, parseJson));
  }

  async appendEvent(e: Omit<EventRow, 'id'>): Promise<number> {
    const result = await this.run(
      'INSERT INTO events (time, type, lease_id, owner, group_name, data) VALUES (?, ?, ?, ?, ?, ?)',
      e.time, e.type, e.leaseId, e.owner, e.group, json(e.data),
    );
    return Number(result.lastInsertRowid);
  }
  async lastEventId(): Promise<number> {
    const [row] = await this.all('SELECT COALESCE(MAX(id), 0) AS id FROM events');
    return Number(row.id);
  }

  async eventsAfter(afterId: number, limit: number): Promise<EventRow[]> {
    checkLimit(limit);
    const rows = await this.all('SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?', afterId, limit);
    return rows.map((r) => ({
      id: r.id, time: r.time, type: r.type, leaseId: r.lease_id, owner: r.owner, group: r.group_name, data: JSON.parse(r.data),
    }));
  }

  async idempotentResponse(owner: string, key: string): Promise<{ leaseId: string; response: unknown } | null> {
    const row = await this.one('SELECT lease_id, response FROM idempotency_keys WHERE owner = ? AND key = ?', owner, key);
    return mapped(row, (r) => ({ leaseId: r.lease_id, response: JSON.parse(r.response) }));
  }
  async rememberIdempotent(owner: string, key: string, leaseId: string, response: unknown): Promise<void> {
    // The first response stays: a retried request must get what the original one got.
    await this.run(
      'INSERT INTO idempotency_keys (owner, key, lease_id, response) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
      owner, key, leaseId, json(response),
    );
  }

  async putContext(c: ContextRow, members: ContextMemberRow[]): Promise<void> {
    await this.upsert('contexts', ['lease_id'], { lease_id: c.leaseId, spec: json(c.spec), created_at: c.createdAt });
    for (const m of members) await this.putContextMember(m);
  }
  async listContexts(): Promise<ContextRow[]> {
    return (await this.all('SELECT * FROM contexts ORDER BY lease_id')).map((r) => ({ leaseId: r.lease_id, spec: JSON.parse(r.spec), createdAt: r.created_at }));
  }
  async deleteContext(leaseId: string): Promise<boolean> {
    return (await this.run('DELETE FROM contexts WHERE lease_id = ?', leaseId)).changes > 0;
  }
  async putContextMember(m: ContextMemberRow): Promise<void> {
    await this.upsert('context_members', ['lease_id', 'member_id'], contextMemberColumns(m));
  }
  async contextMembers(leaseId: string): Promise<ContextMemberRow[]> {
    return (await this.all('SELECT * FROM context_members WHERE lease_id = ? ORDER BY member_id', leaseId)).map((r) => contextMemberFrom(r, parseJson));
  }
  async brokerKey(): Promise<BrokerKeyRow | null> {
    return mapped(await this.one("SELECT * FROM broker_keys WHERE id = 'context'"), brokerKeyFrom);
  }
  async keepBrokerKey(k: BrokerKeyRow): Promise<BrokerKeyRow> {
    await this.run("INSERT INTO broker_keys (id, public_key, private_key, created_at) VALUES ('context', ?, ?, ?) ON CONFLICT DO NOTHING", k.publicKey, k.privateKey, k.createdAt);
    return (await this.brokerKey())!;
  }

  private insideOpenTransaction(): boolean {
    return this.open !== null && this.context.getStore() === this.open;
  }

  /** Runs op on the connection once no other caller's transaction holds it. */
  private async use<T>(op: () => T): Promise<T> {
    while (this.open && !this.insideOpenTransaction()) await this.open.ended;
    return op();
  }

  private statement(sql: string): Database.Statement {
    const statement = this.statements.get(sql) ?? this.db.prepare(sql);
    this.statements.set(sql, statement);
    return statement;
  }

  protected run(sql: string, ...params: SqlValue[]): Promise<Database.RunResult> {
    return this.use(() => this.statement(sql).run(...params));
  }

  protected one(sql: string, ...params: SqlValue[]): Promise<Row | undefined> {
    return this.use(() => this.statement(sql).get(...params) as Row | undefined);
  }

  protected all(sql: string, ...params: SqlValue[]): Promise<Row[]> {
    return this.use(() => this.statement(sql).all(...params) as Row[]);
  }

  /**
   * Inserts the row or updates the one with the same key. Not INSERT OR REPLACE: that deletes
   * the old row first, which would cascade to its workspaces, members or tokens.
   */
  protected async upsert(table: string, key: string[], values: Record<string, SqlValue>): Promise<void> {
    const columns = Object.keys(values);
    const updates = columns.filter((c) => !key.includes(c)).map((c) => `${c} = excluded.${c}`);
    const sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})
      ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${updates.join(', ')}`;
    await this.run(sql, ...Object.values(values));
  }
}

/** Opens (creating if needed) the store at path and brings its schema up to date. */
export async function openSqliteStore(path: string): Promise<SqliteStore> {
  const store = new SqliteStore(path);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

function leaseQuery(filter: LeaseFilter): { sql: string; params: SqlValue[] } {
  const where: string[] = [];
  const params: SqlValue[] = [];
  const when = (condition: string, value: SqlValue) => { where.push(condition); params.push(value); };
  if (filter.status !== undefined) when('status = ?', filter.status);
  if (filter.owner !== undefined) when('owner = ?', filter.owner);
  if (filter.owners !== undefined) when('owner IN (SELECT value FROM json_each(?))', JSON.stringify(filter.owners));
  if (filter.kind !== undefined) when('kind = ?', filter.kind);
  if (filter.after !== undefined) when('id > ?', filter.after);
  let sql = `SELECT * FROM leases ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`;
  if (filter.limit !== undefined) {
    checkLimit(filter.limit);
    sql += ' LIMIT ?';
    params.push(filter.limit);
  }
  return { sql, params };
}

/** better-sqlite3 cannot bind booleans; the columns hold 0 or 1. */
function flag(value: boolean): number {
  return value ? 1 : 0;
}


function toUser(r: Row): UserRow {
  return { id: r.id, name: r.name, isAdmin: r.is_admin === 1, createdAt: r.created_at, ...(r.disabled === 1 ? { disabled: true } : {}) };
}

function toGroup(r: Row): GroupRow {
  return { name: r.name, shareLeases: r.share_leases === 1, createdAt: r.created_at };
}

const parseJson = (v: unknown): unknown => JSON.parse(v as string);

/**
 * The store holds every user's leases and token hashes: its directory is the owner's alone (0700)
 * and its file readable by the owner only (0600), whatever the umask; SQLite gives its -wal and
 * -shm files the database file's mode.
 */
function privateFile(path: string): void {
  const dir = dirname(path);
  if (mkdirSync(dir, { recursive: true }) !== undefined) chmodSync(dir, 0o700);
  closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
}
