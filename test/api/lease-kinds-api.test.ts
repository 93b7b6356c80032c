// The lease kinds that start or recur on their own terms, through the REST API rather than the
// core: what a client sends, what it reads back with GET, and what each kind does that the others
// do not. An immediate lease starts now or is refused with what it could have instead; an urgent
// one preempts best-effort work to start now; a deadline lease ends by its deadline or is refused
// with the earliest end it could have; a periodic lease is a series whose occurrences are leases
// of their own (ID#1, ID#2, ...).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ApiWorld, apiWorld, lease, T0 } from './api-world.ts';
import { assertRefused } from './refusal-assert.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from the API, read loosely: the asserts check its shape
type Json = any;

const get = async (w: ApiWorld, token: string, id: string): Promise<Json> => {
  const res = await w.call(token, 'GET', `/v1/leases/${encodeURIComponent(id)}`);
  assert.equal(res.status, 200, `GET /v1/leases/${id}: ${JSON.stringify(res.body)}`);
  return res.body;
};

const create = async (w: ApiWorld, token: string, body: unknown): Promise<Json> => {
  const res = await w.call(token, 'POST', '/v1/leases', body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
};

/** Has the control loop done what was queued (the step a clock's timer queued, say), and the reconciler after it. */
const settled = (w: ApiWorld): Promise<void> => w.service.idle();

/** The lease's workspaces once `ok` likes them (a VM's news may take the reconciler another round). */
async function workspacesUntil(w: ApiWorld, id: string, ok: (ws: Json[]) => boolean): Promise<Json[]> {
  let ws: Json[] = [];
  for (let round = 0; round < 20; round++) {
    await settled(w);
    ws = (await get(w, w.tokens.admin, id)).workspaces as Json[];
    if (ok(ws)) return ws;
  }
  throw new Error(`the workspaces of ${id} never came to what the test waits for; last seen ${JSON.stringify(ws)}`);
}

test('an immediate lease runs now where there is room, and is refused where there is none, with what it could have instead', async () => {
  const w = await apiWorld(2);
  const a = w.tokens.alice;
  const now = await create(w, a, lease({ kind: 'immediate', duration: 600 }));
  assert.equal(now.lease.kind, 'immediate');
  const seen = await get(w, a, now.lease.id);
  assert.deepEqual([seen.status, seen.plannedStart, seen.plannedEnd, seen.actualStart], ['running', T0, T0 + 600, T0]);
  assert.equal(seen.nodes.length, 1);
  assert.deepEqual(seen.spec, { kind: 'immediate', nodes: 1, cpu: 1, memoryMiB: 1024, diskMiB: 0, duration: 600, preemptible: false });

  // Best-effort work on the other node: an immediate lease preempts nobody, so two nodes are not free now.
  const be = await create(w, w.tokens.bob, lease({ duration: 3600 }));
  assert.equal((await get(w, w.tokens.bob, be.lease.id)).status, 'running');
  const inputs = (await w.store.inputs()).length;
  const ask = lease({ kind: 'immediate', nodes: 2, duration: 1200 });
  const refused = await w.call(a, 'POST', '/v1/leases', ask);
  assertRefused(refused, 'insufficient-capacity');
  assert.equal(refused.body.earliestStart, T0 + 3600, 'once the best-effort lease has ended (it is not preempted for an immediate one)');
  const later = refused.body.alternatives.find((alt: Json) => alt.kind === 'later-start');
  assert.deepEqual(later.request, { ...ask, kind: 'exact', diskMiB: 0, preemptible: false, start: T0 + 3600 }, 'an exact lease at the earliest start, in the API\'s own terms');
  assert.equal((await w.store.inputs()).length, inputs, 'the refusal wrote nothing');
  assert.equal((await get(w, w.tokens.bob, be.lease.id)).status, 'running', 'the best-effort lease was left alone');

  const reserved = await create(w, a, later.request);
  assert.deepEqual([reserved.lease.kind, reserved.lease.status, reserved.lease.plannedStart], ['exact', 'scheduled', T0 + 3600]);
  await w.close();
});

test('an urgent lease preempts best-effort work to start now; with only reservations in the way it is refused and offered the earliest start', async () => {
  const w = await apiWorld(2);
  const be = await create(w, w.tokens.bob, lease({ nodes: 2, duration: 7200 }));
  await workspacesUntil(w, be.lease.id, (ws) => ws.length === 2 && ws.every((x) => x.status === 'running'));
  w.clock.advance(600);
  const immediate = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ kind: 'immediate', duration: 600 }));
  assertRefused(immediate, 'insufficient-capacity', 'an immediate lease would not preempt it');

  const urgent = await create(w, w.tokens.alice, lease({ kind: 'urgent', duration: 600 }));
  assert.deepEqual(urgent.decision.preempted, [{ leaseId: be.lease.id, how: 'suspend' }], 'it had run for ten minutes: it is suspended, not sent back to the start');
  const seen = await get(w, w.tokens.alice, urgent.lease.id);
  assert.equal(seen.kind, 'urgent');
  assert.ok(seen.plannedStart >= T0 + 600 && seen.plannedEnd === seen.plannedStart + 600, JSON.stringify(seen));
  assert.equal(seen.nodes.length, 1);
  const node = seen.nodes[0];
  const preempted = await get(w, w.tokens.bob, be.lease.id);
  assert.equal(preempted.status, 'suspending', 'the best-effort lease gives way');
  // Its VMs give way on the urgent lease's node, and the urgent lease's VM runs there.
  await workspacesUntil(w, be.lease.id, (ws) => ws.every((x) => x.node !== node || x.status !== 'running'));
  w.clock.advance(seen.plannedStart - w.clock.now());
  await settled(w);
  await workspacesUntil(w, urgent.lease.id, (ws) => ws.length === 1 && ws[0].status === 'running' && ws[0].node === node);
  assert.equal((await get(w, w.tokens.alice, urgent.lease.id)).status, 'running');

  // Reservations are not preempted: an urgent lease that finds only them is offered a later start.
  const exact = await create(w, w.tokens.bob, lease({ kind: 'exact', nodes: 2, start: w.clock.now() + 3600, duration: 3600 }));
  w.clock.advance(3600);
  await settled(w);
  assert.equal((await get(w, w.tokens.bob, exact.lease.id)).status, 'running');
  const blocked = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ kind: 'urgent', duration: 600 }));
  assertRefused(blocked, 'insufficient-capacity');
  assert.equal(blocked.body.earliestStart, exact.lease.plannedEnd);
  assert.equal(blocked.body.alternatives[0].kind, 'later-start');
  assert.equal(blocked.body.alternatives[0].request.start, exact.lease.plannedEnd);
  await w.close();
});

test('a deadline lease is planned to end by its deadline, or refused with the earliest end it could have, which a client can send back', async () => {
  const w = await apiWorld(2);
  const a = w.tokens.alice;
  const met = await create(w, a, lease({ kind: 'deadline', duration: 600, deadline: T0 + 3600 }));
  const seen = await get(w, a, met.lease.id);
  assert.equal(seen.spec.deadline, T0 + 3600);
  assert.ok(seen.plannedEnd <= T0 + 3600, JSON.stringify(seen));
  assert.equal(seen.status, 'running', 'there was room now');

  // Both nodes are reserved for two hours from a quarter of an hour on: two nodes for an hour
  // cannot be had by the reservation's end.
  const exact = await create(w, w.tokens.bob, lease({ kind: 'exact', nodes: 2, start: T0 + 900, duration: 7200 }));
  const deadline = exact.lease.plannedEnd;
  const ask = lease({ kind: 'deadline', nodes: 2, duration: 3600, deadline });
  const inputs = (await w.store.inputs()).length;
  const refused = await w.call(a, 'POST', '/v1/leases', ask);
  assertRefused(refused, 'insufficient-capacity');
  assert.equal((await w.store.inputs()).length, inputs, 'the refusal wrote nothing');
  const earliestEnd = Number(/the earliest it can end is (\d+)/.exec(refused.body.message)?.[1]);
  assert.match(refused.body.message, new RegExp(`cannot end by its deadline ${deadline}: the earliest it can end is ${earliestEnd}$`));
  assert.ok(earliestEnd > deadline, `${earliestEnd} is after the deadline`);
  assert.deepEqual(refused.body.alternatives.map((alt: Json) => [alt.kind, alt.request.deadline, alt.end]), [['later-deadline', earliestEnd, earliestEnd]]);
  assert.deepEqual(refused.body.alternatives[0].request, { ...ask, diskMiB: 0, preemptible: false, deadline: earliestEnd }, 'the same request in the API\'s terms, with the deadline it can meet');
  const later = await create(w, a, refused.body.alternatives[0].request);
  const planned = await get(w, a, later.lease.id);
  assert.deepEqual([planned.kind, planned.status, planned.plannedEnd], ['deadline', 'scheduled', earliestEnd]);
  await w.close();
});

test('a periodic lease is a series whose occurrences ID#1, ID#2, ... are leases of their own, visible as soon as the series exists', async () => {
  const w = await apiWorld(1);
  const a = w.tokens.alice;
  const start = T0 + 7200;
  const series = await create(w, a, lease({ kind: 'periodic', duration: 600, start, recurrence: { period: 3600, count: 3 } }));
  const id = series.lease.id;
  const occurrences = [1, 2, 3].map((k) => `${id}#${k}`);
  assert.deepEqual(series.decision.occurrences, occurrences);
  const seen = await get(w, a, id);
  assert.deepEqual([seen.kind, seen.status, seen.spec.recurrence], ['periodic', 'scheduled', { period: 3600, count: 3 }]);
  for (const [k, occurrence] of occurrences.entries()) {
    const o = await get(w, a, occurrence);
    assert.deepEqual([o.id, o.owner, o.status, o.plannedStart, o.plannedEnd], [occurrence, 'alice', 'scheduled', start + k * 3600, start + k * 3600 + 600], JSON.stringify(o));
  }
  assertRefused(await w.call(a, 'GET', `/v1/leases/${encodeURIComponent(`${id}#4`)}`), 'not-found', 'there are three');
  assertRefused(await w.call(w.tokens.bob, 'GET', `/v1/leases/${encodeURIComponent(occurrences[0])}`), 'not-found', 'an occurrence is its owner\'s, as its series is');

  // An occurrence blocks its slot: an exact lease there is refused, and offered the end of it.
  const clash = await w.call(w.tokens.bob, 'POST', '/v1/leases', lease({ kind: 'exact', start: start + 3600, duration: 600 }));
  assertRefused(clash, 'insufficient-capacity');
  assert.equal(clash.body.earliestStart, start + 3600 + 600);

  // The first occurrence runs in its slot while the others wait; the series shows it running.
  w.clock.advance(start - T0);
  await settled(w);
  await workspacesUntil(w, occurrences[0], (ws) => ws.length === 1 && ws[0].status === 'running');
  assert.equal((await get(w, a, occurrences[0])).status, 'running');
  assert.equal((await get(w, a, occurrences[1])).status, 'scheduled');
  assert.equal((await get(w, a, id)).status, 'running');
  await w.close();
});
