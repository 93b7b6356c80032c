// An owner who stops a lease at the very instant its first run begins: it never ran, so it is
// withdrawn as a cancel rather than completed with no run (found by the cluster owner-actions
// property: the shared checker, rightly, wants an accepted reservation that completes to have run).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configWith } from '../../src/core/config.ts';
import { Scheduler } from '../../src/core/scheduler.ts';
import type { LeaseRequest } from '../../src/core/types.ts';
import { scheduleLines } from '../../src/sim/schedule-export.ts';
import { validateSchedule } from '../support/validate-schedule.ts';

const nodes = [{ id: 'n1', cpu: 1, memoryMiB: 1024, diskMiB: 40_000 }];
const perNode = { cpu: 0.25, memoryMiB: 256, diskMiB: 0 };
const exact = (id: string, start: number, cluster: boolean): LeaseRequest => ({
  id, kind: 'exact', arrival: 0, requestedStart: start, duration: 10, nodes: 1, perNode, preemptible: false,
  ...(cluster ? { roles: [{ name: 'head', count: 1, perNode, networks: ['private'], provides: [], requires: [] }] } : {}),
});

for (const cluster of [false, true]) {
  test(`a${cluster ? ' cluster' : 'n'} exact lease stopped at its first instant is cancelled, one stopped a second later completes, and the export checks`, () => {
    const s = new Scheduler(nodes, configWith({}));
    assert.ok(s.submit(exact('at-start', 100, cluster), 0).ok);
    assert.ok(s.submit(exact('later', 200, cluster), 0).ok);
    s.advance(0);
    s.advance(100);
    assert.ok(s.finishEarly('at-start', 100).ok);
    s.advance(100);
    s.advance(200);
    s.advance(201);
    assert.ok(s.finishEarly('later', 201).ok);
    for (let t = s.nextEventTime(); t < Infinity; t = s.nextEventTime()) s.advance(t);
    assert.equal(s.lease('at-start')!.state, 'cancelled');
    assert.equal(s.lease('later')!.state, 'completed');
    const checked = validateSchedule([...scheduleLines(s.allLeases(), nodes)].join('\n') + '\n');
    assert.equal(checked.status, 0, checked.output);
  });
}
