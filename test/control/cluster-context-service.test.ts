// A cluster lease's context through the whole service: a 1 head + 2 workers lease made through the
// API on a real SQLite file (simulated driver), registered with the broker as it deploys, each
// member's seed made as `vws serve` makes it (leaseSeeds), the context agent's config read out of
// the seed's user-data with cloud-init's own reader, and the REAL context agent run as a process
// per member under its own --root against the service listening on a port. The lease view, the
// CLI's text of it and the lease's event stream show the context; cancelling forgets it. And a
// worker that never reports fails the cluster with the step's reason after its (short) timeout.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { agentSha256 } from '../../src/api/routes/context.ts';
import { leaseDetail } from '../../src/cli/client/lease-text.ts';
import { lease } from '../api/api-world.ts';
import { cluster } from '../api/cluster-body.ts';
import { registrationOf } from '../../src/broker/cluster-contexts.ts';
import { AGENT, deployedCluster, type Json, leaseEvents, memberRoot, memberSeeds, runAgent, world } from './support/cluster-context-world.ts';

test('a 1 + 2 cluster deploys, its seeds carry each member\'s context config, the real agents complete it: the lease view, the CLI and the event stream show it; cancelling forgets it', async () => {
  const w = await world();
  try {
    const id = await deployedCluster(w);
    const seeds = (await memberSeeds(w, id, 3)).map((s) => s!);
    assert.deepEqual(seeds.map((s) => s.member), ['head-0', 'worker-0', 'worker-1']);
    assert.deepEqual(seeds.map((s) => s.hostname), [`${id}-head-0`, `${id}-worker-0`, `${id}-worker-1`]);
    for (const s of seeds) {
      assert.equal(s.agentUrl, `${w.url}/v1/context/agent`);
      assert.equal(s.agentHash, agentSha256());
      assert.equal(JSON.parse(s.configText).server, w.url);
    }
    // What the seed names is the agent the service serves.
    const served = await fetch(seeds[0].agentUrl);
    assert.equal((await served.text()), readFileSync(AGENT, 'utf8'));
    const roots = seeds.map((s) => memberRoot(w, s, s.member === 'head-0' ? { 'nfs-export': `${s.hostname}:/srv` } : {}));
    const results = await Promise.all(roots.map(runAgent));
    for (const [i, r] of results.entries()) assert.equal(r.code, 0, `${seeds[i].member}: ${r.stderr}`);
    for (const m of roots) {
      const hosts = readFileSync(join(m.root, 'etc/hosts'), 'utf8');
      for (const s of seeds) assert.match(hosts, new RegExp(` ${s.hostname}$`, 'm'), `every member knows ${s.hostname}`);
    }
    await w.settle();
    const shown = (await w.call('GET', `/v1/leases/${id}`)).body;
    assert.deepEqual(shown.workspaces.map((x: Json) => x.context), seeds.map(() => ({ state: 'complete', reason: null, waitsFor: [] })));
    assert.equal(shown.context.status, 'complete');
    assert.deepEqual(shown.context.roles.map((r: Json) => [r.name, r.reported, r.done, r.failed, r.status]), [['head', 1, 1, 0, 'complete'], ['worker', 2, 2, 0, 'complete']]);
    const doc = (await w.call('GET', '/v1/openapi.json')).body;
    assert.deepEqual(Object.keys(doc.components.schemas.Workspace.properties.context.properties), ['state', 'reason', 'waitsFor'], 'the OpenAPI document describes it');
    assert.ok(doc.components.schemas.Lease.properties.context);
    const text = leaseDetail(shown);
    assert.match(text, /^context +complete$/m);
    assert.match(text, /^context worker +complete, 2 of 2 reported, 2 done, 0 failed \(needs 2\)$/m);
    assert.match(text, /CONTEXT/);
    const events = await leaseEvents(w, id);
    const settled = events.filter((e) => e.type.startsWith('lease.context'));
    assert.deepEqual(settled.map((e) => [e.type, e.data.status, e.data.reason]), [['lease.context-complete', 'complete', null]]);
    // A seed made again (the VM restarted) carries no secret: its agent holds a session already.
    assert.deepEqual(await memberSeeds(w, id, 3), [null, null, null]);
    // A plain lease's seed has no context part.
    const plain = await w.call('POST', '/v1/leases', lease({ memoryMiB: 256 }));
    assert.equal(plain.status, 201, JSON.stringify(plain.body));
    assert.deepEqual(await memberSeeds(w, plain.body.lease.id, 1), [null]);

    assert.equal((await w.call('DELETE', `/v1/leases/${id}`)).status < 300, true);
    await w.settle();
    assert.equal(w.broker.view(id), null, 'the broker forgot the cancelled lease');
    assert.deepEqual(await w.store.listContexts(), []);
    assert.equal((await w.call('GET', `/v1/leases/${id}`)).body.context, undefined);
  } finally {
    await w.close();
  }
});

test('a worker that never reports fails the cluster with the step\'s reason after its timeout, shown in the view, the CLI and the event stream', async () => {
  const w = await world({ exchange: 60, report: 300, context: 300, done: 300 });
  try {
    const id = await deployedCluster(w);
    const seeds = (await memberSeeds(w, id, 3)).map((s) => s!);
    const running = seeds.slice(0, 2).map((s) => runAgent(memberRoot(w, s, s.member === 'head-0' ? { 'nfs-export': `${s.hostname}:/srv` } : {})));
    // The two that run report and then wait for the third: only then is time moved past its timeout.
    for (let round = 0; round < 600; round++) {
      const steps = w.broker.view(id)!.roles.flatMap((r) => r.members.map((m) => m.step));
      if (steps.filter((s) => s === 'context').length === 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const before = (await w.call('GET', `/v1/leases/${id}`)).body;
    assert.deepEqual(before.workspaces.map((x: Json) => x.context.state), ['pending', 'pending', 'pending']);
    assert.ok(before.workspaces[0].context.waitsFor.length > 0, JSON.stringify(before.workspaces[0].context));
    w.clock.advance(61);
    const results = await Promise.all(running);
    for (const r of results) assert.notEqual(r.code, 0, 'the agents are told the cluster failed');
    await w.settle();
    const shown = (await w.call('GET', `/v1/leases/${id}`)).body;
    assert.equal(shown.context.status, 'failed');
    assert.match(shown.context.reason, /worker-1/);
    const lost = shown.workspaces[2].context;
    assert.equal(lost.state, 'failed');
    assert.match(lost.reason, /exchange|secret|boot/i, `the reason names the step: ${lost.reason}`);
    assert.match(leaseDetail(shown), /^context +failed: /m);
    const settled = (await leaseEvents(w, id)).filter((e) => e.type.startsWith('lease.context'));
    assert.deepEqual(settled.map((e) => [e.type, e.data.reason]), [['lease.context-failed', shown.context.reason]]);
  } finally {
    await w.close();
  }
});

test('a crash between deploying a cluster and registering it, or between its end and forgetting it, is caught up at start; registering twice makes one context', async () => {
  const w = await world(undefined, false);
  try {
    const made = await w.call('POST', '/v1/leases', cluster());
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const id = made.body.lease.id as string;
    for (let round = 0; round < 30 && (await w.store.getLease(id))!.status !== 'running'; round++) {
      await w.settle();
      w.clock.advance(1);
    }
    assert.equal((await w.store.getLease(id))!.status, 'running');
    assert.equal(w.broker.view(id), null, 'deployed while nothing listened: not registered');
    await w.watch();
    assert.ok(w.broker.view(id), 'registered as the service catches up');
    const rows = await w.store.contextMembers(id);
    const twice = await Promise.all([w.contexts.ensure(id), w.contexts.ensure(id), w.broker.register(registrationOf((await w.store.getLease(id))!))]);
    assert.ok(twice.every((r) => r.ok));
    assert.deepEqual(await w.store.contextMembers(id), rows, 'registered again: left as it was');
    w.unwatch();
    assert.equal((await w.call('DELETE', `/v1/leases/${id}`)).status < 300, true);
    await w.settle();
    assert.ok(w.broker.view(id), 'ended while nothing listened: still held');
    await w.watch();
    assert.equal(w.broker.view(id), null, 'forgotten as the service catches up');
    assert.deepEqual(await w.store.listContexts(), []);
  } finally {
    await w.close();
  }
});

test('a cluster the broker refuses to register is said in its lease\'s stream with why', async () => {
  const w = await world();
  try {
    const made = await w.call('POST', '/v1/leases', cluster());
    const id = made.body.lease.id as string;
    await w.settle();
    const row = (await w.store.getLease(id))!;
    // A stored request the broker cannot take (the API refuses it; a store written by an older version might hold one).
    const roles = row.request.roles!.map((r) => (r.name === 'worker' ? { ...r, requires: ['head.nothing-provides-this'] } : r));
    await w.broker.forget(id);
    await w.store.putLease({ ...row, request: { ...row.request, roles } });
    w.contexts.heard({ id: 0, time: w.clock.now(), type: 'lease.status', leaseId: id, owner: 'alice', group: null, data: { from: 'scheduled', to: 'deploying' } });
    await w.settle();
    assert.equal(w.broker.view(id), null);
    const failed = (await leaseEvents(w, id)).filter((e) => e.type === 'lease.context-failed');
    assert.equal(failed.length, 1);
    assert.match(failed[0].data.reason, /could not be registered with the context broker: .*head\.nothing-provides-this/);
    await assert.rejects(memberSeeds(w, id, 1), /cannot carry its context secret: .*head\.nothing-provides-this/);
  } finally {
    await w.close();
  }
});
