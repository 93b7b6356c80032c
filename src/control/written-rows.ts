// What the leader knows it has written: each lease's row, and each Idempotency-Key's first answer.
// Only the leader writes the store, and after its replay it has seen every row and every key (the
// keys travel in the logged inputs), so a create reads neither from the store: two round trips of
// the eight a create made on PostgreSQL.

import type { LeaseRow, Store } from '../store/store.ts';

/** Lease rows read per query by readAll. */
const ROWS_PAGE = 5000;

export class WrittenRows extends Map<string, LeaseRow> {
  /** Set once the replay has written (or read) every lease's row: a lease not here then has none. */
  complete = false;

  /**
   * Reads the rows of the leases `held` names, a page at a time rather than one lease at a time
   * (a takeover at 20,000 leases spent seconds of its replay on 20,000 round trips, comparing each
   * row before writing it), and from then on takes a lease not here for one without a row. Rows
   * of leases no longer held are not kept.
   */
  async readAll(store: Store, held: (id: string) => boolean): Promise<void> {
    for (let after: string | undefined, page: LeaseRow[]; ; after = page[page.length - 1].id) {
      page = await store.listLeases({ ...(after === undefined ? {} : { after }), limit: ROWS_PAGE });
      for (const row of page) if (held(row.id)) this.set(row.id, row);
      if (page.length < ROWS_PAGE) break;
    }
    this.complete = true;
  }

  /** The lease's row as last written, or null where it has none yet. */
  async before(id: string, store: Store): Promise<LeaseRow | null> {
    return this.get(id) ?? (this.complete ? null : await store.getLease(id));
  }
}

export interface FirstAnswer {
  leaseId: string;
  response: unknown;
}

/** The first answer to each (owner, Idempotency-Key): kept in the store as well, for the record. */
export class IdempotencyKeys {
  private readonly answers = new Map<string, FirstAnswer>();

  constructor(private readonly store: Store) {}

  seen(owner: string, key: string): FirstAnswer | undefined {
    return this.answers.get(JSON.stringify([owner, key]));
  }

  async remember(owner: string, key: string, leaseId: string, response: unknown): Promise<void> {
    await this.store.rememberIdempotent(owner, key, leaseId, response);
    const k = JSON.stringify([owner, key]);
    // The first answer stands, as in the store (a replay meets each key once, in order).
    if (!this.answers.has(k)) this.answers.set(k, { leaseId, response });
  }
}
