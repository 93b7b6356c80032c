// The site's log as a workload for another policy: what each input becomes (docs/simulator.md,
// "What-if replay"). Requests arrive at their own instants and node changes keep theirs, so that
// both schedules share one time axis; what only made sense under the policy that ran (an owner's
// suspend and resume, an administrator's live migration, the terms then in force) is dropped; an
// owner's change of a lease is made where the other policy lets it be.

import type { LeaseRequest } from '../../core/types.ts';
import type { InputRow } from '../../store/store.ts';
import type { Input } from '../inputs.ts';
import type { RealRun, RunLength } from './as-it-ran.ts';

/** One thing that happens to the what-if's scheduler at `time`; `seq` is its input's place in the log. */
export type WorkloadStep = { time: number; seq: number } & (
  | { type: 'request'; owner: string; group: string | null; request: LeaseRequest }
  /** A hold never committed: it holds its room until it runs out, as it did. */
  | { type: 'hold'; owner: string; group: string | null; request: LeaseRequest; ttl: number }
  /** A tick, an owner's cancel of a lease that was not running, a node's change, cost figures. */
  | { type: 'input'; input: Input }
);

/** What the what-if leaves out, counted. */
export interface Dropped {
  suspend: number;
  resume: number;
  migrate: number;
  /** Changes of the terms: the policy document stands in for all of them. */
  terms: number;
}

export interface Workload {
  steps: WorkloadStep[];
  /** Leases ended while they ran: each ends again once it has done as much work. */
  ranFor: ReadonlyMap<string, RunLength>;
  dropped: Dropped;
}

export function workloadOf(inputs: readonly InputRow[], real: RealRun): Workload {
  const steps: WorkloadStep[] = [];
  const dropped: Dropped = { suspend: 0, resume: 0, migrate: 0, terms: 0 };
  for (const row of inputs) {
    const input = row.data as Input;
    const at = { time: row.time, seq: row.seq };
    switch (input.type) {
      case 'submit':
      case 'hold': {
        const id = input.request.id;
        if (input.type === 'hold' && real.neverCommitted.has(id)) {
          steps.push({ ...at, type: 'hold', owner: input.owner, group: input.group, request: input.request, ttl: input.ttl });
          break;
        }
        // A hold later committed is a request from the hold's instant: the place it held was the lease's from then on.
        const ran = real.ranFor.get(id);
        const request = ran && input.request.recurrence === undefined ? { ...input.request, realDuration: ran.seconds } : input.request;
        steps.push({ ...at, type: 'request', owner: input.owner, group: input.group, request });
        break;
      }
      case 'commit':
        break;
      case 'cancel':
      case 'fail':
      case 'finish':
        // Ended while it ran: it ends again after as much work (RunLength). Otherwise (not begun, a
        // hold, or ending already: shutting down, suspended) it is withdrawn at this instant.
        if (real.ranFor.get(input.id)?.seq !== row.seq) steps.push({ ...at, type: 'input', input: { type: 'cancel', id: input.id, by: 'replay' } });
        break;
      case 'suspend':
      case 'resume':
      case 'migrate':
        dropped[input.type]++;
        break;
      case 'terms':
        dropped.terms++;
        break;
      // A change asked under the policy that ran: made under the other one too, where it can be (what-if-run.ts).
      case 'change':
      case 'tick':
      case 'node-add':
      case 'node-drain':
      case 'node-unavailable':
      case 'node-available':
      case 'node-departs':
      case 'costs':
        steps.push({ ...at, type: 'input', input });
        break;
    }
  }
  return { steps, ranFor: real.ranFor, dropped };
}
