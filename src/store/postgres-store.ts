// The Store on PostgreSQL through a pg.Pool. Outside transaction() each call takes whichever
// pooled connection is free; inside it, every call made while fn runs (found through
// AsyncLocalStorage) goes to the one client that holds the transaction.

import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { brokerKeyFrom, checkLimit, contextMemberColumns, contextMemberFrom, imageColumns, imageFrom, json, leaseColumns, leaseFrom, mapped, nodeColumns, nodeFrom, workspaceColumns, workspaceFrom } from './columns.ts';
import { applyMigrations } from './migrations.ts';
import { StoreUnavailable } from './store-failure.ts';
import type {
  BrokerKeyRow, ContextMemberRow, ContextRow, EventRow, ImageRow, InputRow, LeaseFilter, LeaseRow, LeaseStatus, NodeRow, Store,
  WorkspaceRow,
} from './store.ts';
import { PostgresUserRecords } from './postgres-users.ts';
import { FENCE_FUNCTION, UNFENCED, UNFENCED_TABLES, fenceTrigger } from './postgres-fence.ts';
import { PostgresLeadership } from './postgres-leadership.ts';
import { FENCED_SQLSTATE, type StoreLeadership } from './leadership.ts';

/** How long the database lets a leader's transaction sit idle before it ends it (see fence()). */
const IDLE_IN_TRANSACTION_MS = 5000;

import { type Row, type SqlValue, WriteBuffer } from './postgres-write-buffer.ts';

export interface PostgresStoreOptions {
  /** Keep every table in this schema (created if missing), e.g. to isolate a test run. */
  schema?: string;
  /** Every transaction read-only (a replay reading a live site's store): any write fails. The schema is not created. */
  readOnly?: boolean;
}

interface OpenTransaction {
  client: pg.PoolClient;
  /** False once committed or rolled back: late calls from fn's context must not use the client. */
  open: boolean;
  /** The rows of inputs, leases, workspaces, events and idempotency keys written and not sent yet. */
  buffer: WriteBuffer;
}

export class PostgresStore extends PostgresUserRecords implements Store {
  private pool: pg.Pool;
  private readonly schema: string | undefined;
  private readonly context = new AsyncLocalStorage<OpenTransaction>();
  private closed = false;

  /** How every connection of the store is opened, the pool's and the server claim's. */
  private readonly connection: pg.ClientConfig;

  constructor(url: string, options: PostgresStoreOptions = {}) {
    super();
    this.schema = options.schema === undefined ? undefined : checkSchemaName(options.schema);
    this.connection = {
      connectionString: url,
      // Names the connections in pg_stat_activity: an operator sees which are vws's, and of which schema.
      application_name: `vws ${this.schema ?? 'public'}`,
      types: { getTypeParser: typeParser as typeof pg.types.getTypeParser },
      // A startup parameter rather than a SET on 'connect': it is in force before the
      // connection's first query, and cannot fail halfway and leave it on the public schema.
      options: [this.schema === undefined ? '' : `-c search_path=${this.schema}`, options.readOnly ? '-c default_transaction_read_only=on' : ''].filter(Boolean).join(' ') || undefined,
    };
    this.pool = new pg.Pool(this.connection);
    // An idle client whose server went away emits here; the pool drops it and opens a new one
    // on demand, so there is nothing to do, but without a listener the process would crash.
    this.pool.on('error', () => {});
  }

  async migrate(): Promise<void> {
    if (this.schema !== undefined) await this.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
    await applyMigrations({
      dialect: 'postgres',
      exclusively: (fn) => this.transaction(async () => {
        // Held until this transaction ends; keyed by schema so separate schemas migrate in parallel.
        await this.query("SELECT pg_advisory_xact_lock(hashtext('vws migrations ' || COALESCE(current_schema(), '')))");
        await fn();
      }),
      exec: async (sql) => { await this.query(sql); },
      appliedVersion: () => this.schemaVersion(),
      recordVersion: async (version, appliedAt) => {
        await this.query('INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)', [version, appliedAt]);
      },
    });
    await this.transaction(async () => {
      await this.query("SELECT pg_advisory_xact_lock(hashtext('vws migrations ' || COALESCE(current_schema(), '')))");
      await this.query(FENCE_FUNCTION);
      for (const { name } of await this.query(UNFENCED_TABLES, [UNFENCED])) await this.query(fenceTrigger(name as string));
    });
  }

  async schemaVersion(): Promise<number> {
    const [found] = await this.query("SELECT to_regclass('schema_version') IS NOT NULL AS present");
    if (!found.present) return 0;
    return (await this.query('SELECT COALESCE(MAX(version), 0) AS version FROM schema_version'))[0].version;
  }

  /** Servers on PostgreSQL share the store: one leads by the election below, the others follow. */
  async claimForServer(): Promise<string | null> {
    return null;
  }

  leadership(): StoreLeadership {
    return {
      election: new PostgresLeadership({ ...this.connection }),
      fence: (epoch) => this.fence(epoch),
      onFenced: (listener) => { this.fenced = listener; },
    };
  }

  private fenced: (() => void) | null = null;

  /**
   * From now on every connection writes as the leader of `epoch` (the fence refuses it once another
   * leads). A transaction left idle by a paused process is ended by the database, so that its
   * share lock cannot hold a takeover up.
   */
  private fence(epoch: number): void {
    if (!Number.isSafeInteger(epoch) || epoch < 1) throw new RangeError(`an epoch is a whole number >= 1, got ${epoch}`);
    const before = this.pool;
    const options = [this.connection.options, `-c vws.epoch=${epoch}`, `-c idle_in_transaction_session_timeout=${IDLE_IN_TRANSACTION_MS}`].filter(Boolean).join(' ');
    this.pool = new pg.Pool({ ...this.connection, options });
    this.pool.on('error', () => {});
    void before.end().catch(() => {});
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    if (this.context.getStore()?.open) {
      throw new Error('transaction() was called inside another transaction() on the same store; calls must not nest — run the inner work directly in the outer transaction');
    }
    const client = await this.pool.connect();
    // A connection ended under the transaction (the database restarted, or ended a transaction
    // left idle) fails the statement under way or the next; its 'error' event, emitted on a client
    // the pool has lent out, would end the process without a listener.
    const lost = (): void => {};
    client.on('error', lost);
    // The held writes' failures are the store's, as its methods' are (store-failure.ts): a 503, never a 500.
    const sendHeld = (sql: string, params: SqlValue[]): Promise<Row[]> => this.send(client, sql, params).catch((e: unknown) => {
      throw new StoreUnavailable(`the store failed writing held rows: ${(e as Error)?.message ?? String(e)}`, e);
    });
    const tx: OpenTransaction = { client, open: true, buffer: new WriteBuffer(sendHeld) };
    let broken: Error | undefined;
    try {
      await tx.client.query('BEGIN');
      const result = await this.context.run(tx, fn);
      await tx.buffer.flush();
      await tx.client.query('COMMIT');
      return result;
    } catch (error) {
      broken = await tx.client.query('ROLLBACK').then(() => undefined, (e: Error) => e);
      throw error;
    } finally {
      tx.open = false;
      client.off('error', lost);
      // A client that could not even roll back is in an unknown state: the pool must discard it.
      tx.client.release(broken);
    }
  }

  appendInput(input: Omit<InputRow, 'seq'>): Promise<number> {
    const row = { time: input.time, type: input.type, data: json(input.data) };
    return this.held?.add('inputs', row, { returning: 'seq', pick: (r) => Number(r.seq) }) ?? this.appendInputNow(input);
  }
  private async appendInputNow(input: Omit<InputRow, 'seq'>): Promise<number> {
    const sql = 'INSERT INTO inputs (time, type, data) VALUES ($1, $2, $3) RETURNING seq';
    return (await this.query(sql, [input.time, input.type, json(input.data)]))[0].seq;
  }
  async inputs(afterSeq = 0): Promise<InputRow[]> {
    const rows = await this.query('SELECT * FROM inputs WHERE seq > $1 ORDER BY seq', [afterSeq]);
    return rows.map((r) => ({ seq: r.seq, time: r.time, type: r.type, data: r.data }));
  }

  async putLease(l: LeaseRow): Promise<void> {
    const held = this.held;
    if (held) return void held.add('leases', leaseColumns(l), { key: ['id'], onConflict: 'update' });
    await this.upsert('leases', ['id'], leaseColumns(l));
  }
  async getLease(id: string): Promise<LeaseRow | null> {
    return mapped((await this.query('SELECT * FROM leases WHERE id = $1', [id]))[0], (r) => leaseFrom(r));
  }
  async listLeases(filter: LeaseFilter = {}): Promise<LeaseRow[]> {
    const { sql, params } = leaseQuery(filter);
    return (await this.query(sql, params)).map((r) => leaseFrom(r));
  }
  async countLeasesByStatus(): Promise<Partial<Record<LeaseStatus, number>>> {
    const rows = await this.query('SELECT status, COUNT(*) AS n FROM leases GROUP BY status');
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  async putWorkspace(w: WorkspaceRow): Promise<void> {
    const held = this.held;
    if (held) return void held.add('workspaces', workspaceColumns(w), { key: ['lease_id', 'idx'], onConflict: 'update' });
    await this.upsert('workspaces', ['lease_id', 'idx'], workspaceColumns(w));
  }
  async workspacesOf(leaseId: string): Promise<WorkspaceRow[]> {
    return (await this.query('SELECT * FROM workspaces WHERE lease_id = $1 ORDER BY idx', [leaseId])).map(workspaceFrom);
  }
  async workspacesOn(node: string): Promise<WorkspaceRow[]> {
    return (await this.query('SELECT * FROM workspaces WHERE node = $1 ORDER BY lease_id, idx', [node])).map(workspaceFrom);
  }

  async putNode(n: NodeRow): Promise<void> {
    await this.upsert('nodes', ['id'], nodeColumns(n));
  }
  async getNode(id: string): Promise<NodeRow | null> {
    return mapped((await this.query('SELECT * FROM nodes WHERE id = $1', [id]))[0], nodeFrom);
  }
  async listNodes(): Promise<NodeRow[]> {
    return (await this.query('SELECT * FROM nodes ORDER BY id')).map(nodeFrom);
  }

  async putImage(i: ImageRow): Promise<void> {
    await this.upsert('images', ['name'], imageColumns(i, (b) => b));
  }
  async getImage(name: string): Promise<ImageRow | null> {
    return mapped((await this.query('SELECT * FROM images WHERE name = $1', [name]))[0], (r) => imageFrom(r));
  }
  async listImages(): Promise<ImageRow[]> {
    return (await this.query('SELECT * FROM images ORDER BY name')).map((r) => imageFrom(r));
  }
  async imagesWithSha256(sha256: string): Promise<ImageRow[]> {
    return (await this.query('SELECT * FROM images WHERE sha256 = $1 ORDER BY name', [sha256])).map((r) => imageFrom(r));
  }

  appendEvent(e: Omit<EventRow, 'id'>): Promise<number> {
    const row = { time: e.time, type: e.type, lease_id: e.leaseId, owner: e.owner, group_name: e.group, data: json(e.data) };
    return this.held?.add('events', row, { returning: 'id', pick: (r) => Number(r.id) }) ?? this.appendEventNow(e);
  }
  private async appendEventNow(e: Omit<EventRow, 'id'>): Promise<number> {
    const sql = `INSERT INTO events (time, type, lease_id, owner, group_name, data)
      VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`;
    return (await this.query(sql, [e.time, e.type, e.leaseId, e.owner, e.group, json(e.data)]))[0].id;
  }
  async lastEventId(): Promise<number> {
    const [row] = await this.query('SELECT COALESCE(MAX(id), 0) AS id FROM events');
    return Number(row.id);
  }

  async eventsAfter(afterId: number, limit: number): Promise<EventRow[]> {
    checkLimit(limit);
    const rows = await this.query('SELECT * FROM events WHERE id > $1 ORDER BY id LIMIT $2', [afterId, limit]);
    return rows.map((r) => ({
      id: r.id, time: r.time, type: r.type, leaseId: r.lease_id, owner: r.owner, group: r.group_name, data: r.data,
    }));
  }

  async idempotentResponse(owner: string, key: string): Promise<{ leaseId: string; response: unknown } | null> {
    const rows = await this.query('SELECT lease_id, response FROM idempotency_keys WHERE owner = $1 AND key = $2', [owner, key]);
    return mapped(rows[0], (r) => ({ leaseId: r.lease_id, response: r.response }));
  }
  async rememberIdempotent(owner: string, key: string, leaseId: string, response: unknown): Promise<void> {
    // The first response stays: a retried request must get what the original one got.
    const held = this.held;
    if (held) return void held.add('idempotency_keys', { owner, key, lease_id: leaseId, response: json(response) }, { key: ['owner', 'key'], onConflict: 'nothing' });
    await this.query(
      'INSERT INTO idempotency_keys (owner, key, lease_id, response) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
      [owner, key, leaseId, json(response)],
    );
  }

  async putContext(c: ContextRow, members: ContextMemberRow[]): Promise<void> {
    await this.upsert('contexts', ['lease_id'], { lease_id: c.leaseId, spec: json(c.spec), created_at: c.createdAt });
    for (const m of members) await this.putContextMember(m);
  }
  async listContexts(): Promise<ContextRow[]> {
    return (await this.query('SELECT * FROM contexts ORDER BY lease_id')).map((r) => ({ leaseId: r.lease_id, spec: r.spec, createdAt: Number(r.created_at) }));
  }
  async deleteContext(leaseId: string): Promise<boolean> {
    return (await this.query('DELETE FROM contexts WHERE lease_id = $1 RETURNING lease_id', [leaseId])).length > 0;
  }
  async putContextMember(m: ContextMemberRow): Promise<void> {
    await this.upsert('context_members', ['lease_id', 'member_id'], contextMemberColumns(m));
  }
  async contextMembers(leaseId: string): Promise<ContextMemberRow[]> {
    return (await this.query('SELECT * FROM context_members WHERE lease_id = $1 ORDER BY member_id', [leaseId])).map((r) => contextMemberFrom(r));
  }
  async brokerKey(): Promise<BrokerKeyRow | null> {
    return mapped((await this.query("SELECT * FROM broker_keys WHERE id = 'context'"))[0], brokerKeyFrom);
  }
  async keepBrokerKey(k: BrokerKeyRow): Promise<BrokerKeyRow> {
    await this.query("INSERT INTO broker_keys (id, public_key, private_key, created_at) VALUES ('context', $1, $2, $3) ON CONFLICT DO NOTHING", [k.publicKey, k.privateKey, k.createdAt]);
    return (await this.brokerKey())!;
  }

  /** Runs sql on the open transaction's client if called from inside one, else on any pooled client. */
  protected async query(sql: string, params: SqlValue[] = []): Promise<Row[]> {
    const tx = this.context.getStore();
    // What the transaction holds goes first: a read sees it, and statements stay in their order.
    if (tx?.open && !tx.buffer.empty) await tx.buffer.flush();
    return this.send(tx?.open ? tx.client : this.pool, sql, params);
  }

  /** The transaction's buffer, when called from inside one: writes there are held back (postgres-write-buffer.ts). */
  private get held(): WriteBuffer | null {
    const tx = this.context.getStore();
    return tx?.open ? tx.buffer : null;
  }

  private async send(on: pg.Pool | pg.PoolClient, sql: string, params: SqlValue[]): Promise<Row[]> {
    try {
      return (await on.query(sql, params)).rows;
    } catch (e) {
      if ((e as { code?: string }).code === FENCED_SQLSTATE) this.fenced?.();
      throw e;
    }
  }

  /**
   * Inserts the row or updates the one with the same key (rather than delete-and-insert, which
   * would cascade to its workspaces, members or tokens).
   */
  protected async upsert(table: string, key: string[], values: Record<string, SqlValue>): Promise<void> {
    const columns = Object.keys(values);
    const updates = columns.filter((c) => !key.includes(c)).map((c) => `${c} = EXCLUDED.${c}`);
    const sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})
      ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${updates.join(', ')}`;
    await this.query(sql, Object.values(values));
  }
}

/** Connects to url, creates the schema if asked for one, and brings the tables up to date. */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
  const store = new PostgresStore(url, options);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

/**
 * pg returns BIGINT (ids, seqs, times, COUNT) as strings so as not to lose digits; every value
 * this store keeps is well inside JavaScript's exact integers, so they come back as numbers,
 * and one that is not fails loudly instead of rounding.
 */
function typeParser(oid: number, format?: string): (text: string) => unknown {
  if (oid === pg.types.builtins.INT8 && format !== 'binary') return parseInt8;
  return pg.types.getTypeParser(oid, format as 'text');
}

function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`PostgreSQL returned the BIGINT ${text}, beyond the integers JavaScript holds exactly (±2^53); the store cannot represent it`);
  }
  return value;
}

function checkSchemaName(schema: string): string {
  // The name goes into a startup parameter and DDL unescaped, so only plain identifiers pass.
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(`schema name ${JSON.stringify(schema)} is not a plain lower-case identifier; use letters a-z, digits and _ (at most 63), not starting with a digit`);
  }
  return schema;
}

function leaseQuery(filter: LeaseFilter): { sql: string; params: SqlValue[] } {
  const where: string[] = [];
  const params: SqlValue[] = [];
  const when = (condition: (placeholder: string) => string, value: SqlValue) => {
    params.push(value);
    where.push(condition(`$${params.length}`));
  };
  if (filter.status !== undefined) when((p) => `status = ${p}`, filter.status);
  if (filter.owner !== undefined) when((p) => `owner = ${p}`, filter.owner);
  if (filter.owners !== undefined) when((p) => `owner = ANY (${p}::text[])`, filter.owners);
  if (filter.kind !== undefined) when((p) => `kind = ${p}`, filter.kind);
  if (filter.after !== undefined) when((p) => `id > ${p}`, filter.after);
  let sql = `SELECT * FROM leases ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`;
  if (filter.limit !== undefined) {
    checkLimit(filter.limit);
    params.push(filter.limit);
    sql += ` LIMIT $${params.length}`;
  }
  return { sql, params };
}

