// A site's own history as a what-if replay reads it (vws sim --replay, the dashboard): its input
// log, its nodes, and who belongs to which group (the terms' rules on groups read it). Plain data,
// so that it can be handed to a worker thread as it is.

import type { InputRow, NodeRow } from '../../store/store.ts';

export interface Person {
  admin: boolean;
  memberOf: string[];
}

export interface SiteLog {
  /** Every input the service logged, in order. */
  inputs: InputRow[];
  nodes: NodeRow[];
  /** By user id, as the store has them now. */
  people: Record<string, Person>;
}

/** A store or log a replay cannot take: the message names what and what to do. */
export class ReplayRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplayRefused';
  }
}
