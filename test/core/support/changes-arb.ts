// Owners' changes (LWF <change>) added to a generated scenario's requests: each request asks for
// none, one or two, at some instant after it arrives, for another duration, another real run,
// or both, so that runs under way are lengthened and shortened, and some changes are refused.

import fc from 'fast-check';
import type { LeaseChange, LeaseRequest, TimedChange } from '../../../src/core/types.ts';
import type { Scenario } from './generators.ts';

const changeArb = (req: LeaseRequest): fc.Arbitrary<TimedChange> => fc.record({
  after: fc.integer({ min: 0, max: 2 * req.duration }),
  duration: fc.option(fc.integer({ min: 1, max: 3 * req.duration }), { nil: undefined }),
  realDuration: fc.option(fc.integer({ min: 1, max: 3 * req.duration }), { nil: undefined }),
}).map(({ after, duration, realDuration }) => {
  const change: LeaseChange = duration === undefined && realDuration === undefined ? { duration: req.duration + 1 } : {
    ...(duration !== undefined ? { duration } : {}),
    ...(realDuration !== undefined ? { realDuration } : {}),
  };
  return { at: req.arrival + after, change };
});

/** The requests with changes drawn for each. */
export function requestsWithChanges(requests: readonly LeaseRequest[]): fc.Arbitrary<LeaseRequest[]> {
  const perRequest = requests.map((req) => fc.array(changeArb(req), { maxLength: 2 }).map((cs) => cs.sort((a, b) => a.at - b.at)));
  return fc.tuple(...perRequest).map((all) => requests.map((req, i) => (all[i].length > 0 ? { ...req, changes: all[i] } : req)));
}

/** The scenario with changes drawn for each of its requests. */
export function withChanges(s: Scenario): fc.Arbitrary<Scenario> {
  return requestsWithChanges(s.requests).map((requests) => ({ ...s, requests }));
}
