// What the leader knows it has written: each lease's row, and each Idempotency-Key's first answer.
// Only the leader writes the store, and after its replay it has seen every row and every key (the
// keys travel in the logged inputs), so a create reads neither from the store: two round trips of
// the eight a create made on PostgreSQL.

import type { LeaseRow, Store } from '../store/store.ts';

export class WrittenRows extends Map<string, LeaseRow> {
  /** Set once the replay has written (or read) every lease's row: a lease not here then has none. */
  complete = false;

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
