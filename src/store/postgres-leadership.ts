// The leader election on PostgreSQL (see ./leadership.ts), on a connection of its own so that a
// busy pool never delays a renewal. Time is the database's (clock_timestamp()): the servers'
// clocks never have to agree.

import pg from 'pg';
import { FENCE_LOCK } from './postgres-fence.ts';
import { type Candidate, type Leader, type LeaderElection, TERM_MS } from './leadership.ts';

/** A takeover waits this long for the writes of the old leader under way, then tries again later. */
const TAKEOVER_LOCK_TIMEOUT = '2s';

export class PostgresLeadership implements LeaderElection {
  private client: pg.Client | null = null;
  private connecting: Promise<pg.Client> | null = null;
  private closed = false;

  constructor(private readonly connection: pg.ClientConfig, private readonly termMs = TERM_MS) {}

  async current(): Promise<Leader | null> {
    const [row] = await this.query(`SELECT l.epoch, l.holder, l.address, l.since, (h.expires_at < clock_timestamp()) AS expired
      FROM leadership l JOIN leader_heartbeat h ON h.id = l.id WHERE l.id = 1`);
    return row ? { epoch: Number(row.epoch), holder: row.holder as string, address: row.address as string, since: Number(row.since), expired: row.expired === true } : null;
  }

  async campaign(me: Candidate): Promise<number | null> {
    const client = await this.connected();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL lock_timeout = '${TAKEOVER_LOCK_TIMEOUT}'`);
      // The heartbeat row locked first: two candidates queue here, and the second finds it renewed.
      const [beat] = (await client.query('SELECT epoch, expires_at < clock_timestamp() AS expired FROM leader_heartbeat WHERE id = 1 FOR UPDATE')).rows;
      if (beat && beat.expired !== true) {
        await client.query('ROLLBACK');
        return null;
      }
      const since = Math.floor(Date.now() / 1000);
      // Waits here for every write of the old leader still in a transaction (they hold the fence lock in share).
      await client.query(`SELECT pg_advisory_xact_lock(${FENCE_LOCK})`);
      if (!beat) {
        // A store no one has led yet has no heartbeat row to queue on: two candidates both get
        // here, the second once the first has committed. Without a second look it took the
        // leadership from a leader of a moment ago, whose first writes were then fenced.
        const [taken] = (await client.query('SELECT 1 FROM leader_heartbeat WHERE id = 1 AND expires_at >= clock_timestamp()')).rows;
        if (taken) {
          await client.query('ROLLBACK');
          return null;
        }
      }
      const [won] = (await client.query(`INSERT INTO leadership (id, epoch, holder, address, since) VALUES (1, 1, $1, $2, $3)
        ON CONFLICT (id) DO UPDATE SET epoch = leadership.epoch + 1, holder = EXCLUDED.holder, address = EXCLUDED.address, since = EXCLUDED.since
        RETURNING epoch`, [me.holder, me.address, since])).rows;
      const epoch = Number(won.epoch);
      await client.query(`INSERT INTO leader_heartbeat (id, epoch, expires_at) VALUES (1, $1, clock_timestamp() + $2 * interval '1 millisecond')
        ON CONFLICT (id) DO UPDATE SET epoch = EXCLUDED.epoch, expires_at = EXCLUDED.expires_at`, [epoch, this.termMs]);
      await client.query('COMMIT');
      return epoch;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => this.drop());
      // Another candidate's or the old leader's lock outlasted the wait: not this round.
      if ((e as { code?: string }).code === '55P03') return null;
      throw e;
    }
  }

  async renew(epoch: number): Promise<boolean> {
    const rows = await this.query(`UPDATE leader_heartbeat SET expires_at = clock_timestamp() + $2 * interval '1 millisecond'
      WHERE id = 1 AND epoch = $1 RETURNING epoch`, [epoch, this.termMs]);
    return rows.length === 1;
  }

  async resign(epoch: number): Promise<void> {
    await this.query('UPDATE leader_heartbeat SET expires_at = clock_timestamp() WHERE id = 1 AND epoch = $1', [epoch]);
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client ?? (await this.connecting?.catch(() => null)) ?? null;
    this.client = null;
    await client?.end().catch(() => {});
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the driver's rows are untyped; the methods above read them
  private async query(sql: string, params: unknown[] = []): Promise<Record<string, any>[]> {
    const client = await this.connected();
    try {
      return (await client.query(sql, params)).rows;
    } catch (e) {
      // A connection that failed (the database restarted, the network dropped) is opened anew next time.
      if (!(e as { code?: string }).code) this.drop();
      throw e;
    }
  }

  private connected(): Promise<pg.Client> {
    if (this.closed) return Promise.reject(new Error('the leader election was closed'));
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      // A query that hangs (the database unreachable without a reset) must not hold the renewals:
      // it fails after a term, and the leader steps down rather than deciding unrenewed.
      const client = new pg.Client({ ...this.connection, query_timeout: this.termMs, connectionTimeoutMillis: this.termMs });
      client.on('error', () => this.drop());
      await client.connect();
      this.client = client;
      return client;
    })().finally(() => { this.connecting = null; });
    return this.connecting;
  }

  private drop(): void {
    const client = this.client;
    this.client = null;
    void client?.end().catch(() => {});
  }
}
