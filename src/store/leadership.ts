// Several servers on one store: exactly one leads (decides, writes, talks to agents) and the
// others follow. The leadership is a lease in the store with a fencing token, the epoch: each
// takeover raises it, and the store refuses the writes of a server whose epoch is no longer the
// leader's, so a leader that was paused or cut off and comes back cannot write over its successor.

/** Who leads, as the store has it. */
export interface Leader {
  /** The fencing token: raised by one at each takeover. */
  epoch: number;
  /** The leading server's name (--name, else host and process). */
  holder: string;
  /** Where the leader answers (its --advertise URL): followers forward to it. */
  address: string;
  /** When it took over (Unix seconds). */
  since: number;
  /** Whether its leadership has run out without being renewed, by the store's clock. */
  expired: boolean;
}

export interface Candidate {
  holder: string;
  address: string;
}

export interface LeaderElection {
  /** The leader on record, or null where none has ever led. */
  current(): Promise<Leader | null>;
  /** Takes the leadership where none holds it or it ran out: the new epoch, or null if another leads. */
  campaign(me: Candidate): Promise<number | null>;
  /** Extends the leadership of `epoch` by the term: false once another has taken over. */
  renew(epoch: number): Promise<boolean>;
  /** Gives it up at a clean stop, so that another need not wait for it to run out. */
  resign(epoch: number): Promise<void>;
  close(): Promise<void>;
}

/** How long a leadership holds unless renewed; the leader renews it every RENEW_MS. */
export const TERM_MS = 4000;
export const RENEW_MS = 1000;

/** The SQLSTATE the store raises for a write under an epoch that no longer leads. */
export const FENCED_SQLSTATE = 'VWFNC';

/** The error a fenced write comes out as, and how it is recognized wherever it is wrapped. */
export function isFenced(e: unknown): boolean {
  for (let at: unknown = e, depth = 0; at && depth < 5; at = (at as { cause?: unknown }).cause, depth++) {
    if ((at as { code?: unknown }).code === FENCED_SQLSTATE) return true;
  }
  return false;
}

/** A store that several servers can share: its election and its fence. */
export interface StoreLeadership {
  election: LeaderElection;
  /** Every write from now on is the leader of `epoch`'s, refused once another leads. */
  fence(epoch: number): void;
  /** Called when a write was refused by the fence. */
  onFenced(listener: () => void): void;
}
