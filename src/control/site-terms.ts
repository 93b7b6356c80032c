// The terms in force (core/terms.ts): what the site offers, its prices and its scheduling policy.
// A change is an input like any other (logged first, then heard by the scheduler), so a replay
// puts each in force at the instant it was made and every lease meets the terms of its own time.
// Until terms are first logged, the site runs on the defaults with the configuration it was opened with.

import type { SchedulerConfig } from '../core/config.ts';
import { DEFAULT_TERMS, schedulingOf, type Terms } from '../core/terms.ts';
import { sorted } from './same-request.ts';

export interface TermsInForce {
  terms: Terms;
  /** Counts the changes: 0 for the terms the site opened with, one more at each change. */
  version: number;
  /** When they came into force (0: from the start). */
  since: number;
  /** Who put them in force: an administrator, or `vws serve --terms FILE`; null for the defaults. */
  by: string | null;
}

/** The default terms, with the scheduling policy of `config`. */
export function termsOfConfig(config: SchedulerConfig): Terms {
  const { preemption, migration, preemptionPolicy, urgentPreemptionPolicy, preemptionNoticeSeconds } = config;
  return { ...DEFAULT_TERMS, preemption: { how: preemption, migrate: migration, victims: preemptionPolicy, urgentVictims: urgentPreemptionPolicy, noticeSeconds: preemptionNoticeSeconds }, scheduling: schedulingOf(config) };
}

export class SiteTerms {
  private state: TermsInForce;

  /** `changed`: hears each change once it is in force. */
  constructor(config: SchedulerConfig, private readonly changed: () => void = () => {}) {
    this.state = { terms: termsOfConfig(config), version: 0, since: 0, by: null };
  }

  get current(): Terms {
    return this.state.terms;
  }

  get inForce(): TermsInForce {
    return this.state;
  }

  /** A logged change, heard (live or in a replay). */
  took(terms: Terms, by: string, now: number): void {
    this.state = { terms, version: this.state.version + 1, since: now, by };
    this.changed();
  }
}

/** Whether two terms say the same (their documents are equal, key order aside). */
export function sameTerms(a: Terms, b: Terms): boolean {
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
}
