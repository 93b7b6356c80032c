// Writes held back inside a PostgreSQL transaction and sent as one multi-row statement per table
// when the transaction needs them: before any other statement of it (a read sees what was
// written), when a caller waits on one of them, and before COMMIT. A batch of creates otherwise
// made one round trip to the server per row: at about a quarter of a millisecond each, eight per
// create, the round trips alone capped a server at a few hundred creates a second.

/** A value as pg sends it. */
export type SqlValue = string | number | boolean | null | string[];
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the database driver's rows are untyped
export type Row = Record<string, any>;

interface Held {
  columns: string[];
  /** What follows VALUES: ON CONFLICT ..., RETURNING ... */
  tail: string;
  rows: SqlValue[][];
  /** Where each key's row is in rows: an upsert of a key already held replaces it (one statement cannot touch a row twice). */
  byKey: Map<string, number> | null;
  /** Whether a later row of the same key replaces the held one (upsert) or is dropped (insert or nothing). */
  keepLast: boolean;
  /** For rows whose caller wants a value back (RETURNING), in row order. */
  waiters: Array<{ resolve: (row: Row) => void; reject: (e: unknown) => void } | null>;
}

/** Tables in the order their rows go out: a workspace's lease before it. */
const ORDER = ['inputs', 'leases', 'workspaces', 'events', 'idempotency_keys'] as const;
export type BufferedTable = (typeof ORDER)[number];

/** pg takes at most 65,535 parameters in one statement. */
const MAX_PARAMETERS = 60_000;

export class WriteBuffer {
  private readonly held = new Map<BufferedTable, Held>();
  private flushing: Promise<void> | null = null;

  constructor(private readonly run: (sql: string, params: SqlValue[]) => Promise<Row[]>) {}

  get empty(): boolean {
    return this.held.size === 0;
  }

  /**
   * Holds one row. `key`: the conflict columns, for an upsert (`update`) or an insert that keeps
   * the first (`nothing`). The answer is a thenable: waiting on it sends what is held.
   */
  add<T = void>(table: BufferedTable, values: Record<string, SqlValue>, opts: { key?: string[]; onConflict?: 'update' | 'nothing'; returning?: string; pick?: (row: Row) => T } = {}): Promise<T> {
    const columns = Object.keys(values);
    let held = this.held.get(table);
    if (held && held.columns.join() !== columns.join()) {
      throw new Error(`internal: rows of ${table} held with columns ${held.columns.join(',')} and ${columns.join(',')}`);
    }
    if (!held) {
      const key = opts.key ?? [];
      const updates = columns.filter((c) => !key.includes(c)).map((c) => `${c} = EXCLUDED.${c}`);
      const conflict = opts.onConflict === 'update' ? ` ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${updates.join(', ')}` : opts.onConflict === 'nothing' ? ' ON CONFLICT DO NOTHING' : '';
      held = { columns, tail: `${conflict}${opts.returning ? ` RETURNING ${opts.returning}` : ''}`, rows: [], byKey: opts.key ? new Map() : null, keepLast: opts.onConflict === 'update', waiters: [] };
      this.held.set(table, held);
    }
    const row = columns.map((c) => values[c]);
    let settle: { resolve: (row: Row) => void; reject: (e: unknown) => void } | null = null;
    const done = opts.returning ? new Promise<Row>((resolve, reject) => (settle = { resolve, reject })) : null;
    // Waited on or not, a failure fails the transaction at its commit: no unhandled rejection here.
    done?.catch(() => {});
    const k = held.byKey && opts.key ? JSON.stringify(opts.key.map((c) => values[c])) : null;
    const at = k === null ? undefined : held.byKey!.get(k);
    if (at === undefined) {
      if (k !== null) held.byKey!.set(k, held.rows.length);
      held.rows.push(row);
      held.waiters.push(settle);
    } else if (held.keepLast) {
      held.rows[at] = row;
    }
    // Sent when waited on: an input is waited on at once (it must be in before the scheduler hears
    // it), and goes out alone; rows nobody waits on go out with the transaction's next statement.
    const settled = (): Promise<T> => this.flush(table).then(() => (done ? done.then((r) => (opts.pick ? opts.pick(r) : (r as T))) : (undefined as T)));
    return lazily(settled);
  }

  /** Sends what is held (of `only` that table, else of every table), table by table; one flush at a time. */
  flush(only?: BufferedTable): Promise<void> {
    if (this.flushing) return this.flushing.then(() => this.flush(only));
    if (this.held.size === 0 || (only && !this.held.has(only))) return Promise.resolve();
    this.flushing = this.send(only).finally(() => { this.flushing = null; });
    return this.flushing;
  }

  private async send(only: BufferedTable | undefined): Promise<void> {
    const batches = ORDER.filter((t) => !only || t === only).flatMap((t) => {
      const h = this.held.get(t);
      return h ? [[t, h] as const] : [];
    });
    for (const [t] of batches) this.held.delete(t);
    const waiting = batches.flatMap(([, h]) => h.waiters);
    try {
      for (const [table, h] of batches) {
        const per = Math.max(1, Math.floor(MAX_PARAMETERS / h.columns.length));
        for (let from = 0; from < h.rows.length; from += per) {
          const rows = h.rows.slice(from, from + per);
          const params: SqlValue[] = [];
          const tuples = rows.map((r) => `(${r.map((v) => `$${params.push(v)}`).join(', ')})`);
          const back = await this.run(`INSERT INTO ${table} (${h.columns.join(', ')}) VALUES ${tuples.join(', ')}${h.tail}`, params);
          // RETURNING gives the rows of one INSERT ... VALUES in the order of its VALUES.
          if (h.tail.includes('RETURNING')) back.forEach((row, i) => h.waiters[from + i]?.resolve(row));
        }
      }
    } catch (e) {
      for (const w of waiting) w?.reject(e);
      throw e;
    }
  }
}

/**
 * A promise that does nothing until something waits on it (then, catch or finally): a write held
 * in the buffer is sent only when its caller needs it, or with the others when the transaction does.
 */
function lazily<T>(start: () => Promise<T>): Promise<T> {
  let started: Promise<T> | null = null;
  const run = (): Promise<T> => (started ??= start());
  const lazy = {
    then: (onFulfilled?: ((v: T) => unknown) | null, onRejected?: ((e: unknown) => unknown) | null) => run().then(onFulfilled, onRejected),
    catch: (onRejected?: ((e: unknown) => unknown) | null) => run().catch(onRejected),
    finally: (onFinally?: (() => void) | null) => run().finally(onFinally),
    [Symbol.toStringTag]: 'Promise',
  };
  return lazy as unknown as Promise<T>;
}
