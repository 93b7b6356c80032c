// Operation timings an agent sends over its channel become the scheduler's cost figures (a
// logged 'costs' input, from the slowest node, with a margin) and show in GET /v1/nodes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planningFigures, SAFETY_FACTOR } from '../../src/drivers/qemu/measured-costs.ts';
import { MemoryHost, poolWorld, until } from './support/agent-pool-world.ts';

test('timings from an agent are logged as costs when the slowest figures move by more than 10%, and GET /v1/nodes shows the estimates', async () => {
  const w = await poolWorld();
  try {
    const nodes = await w.api('/v1/nodes');
    assert.deepEqual(nodes, { nodes: [] });
    const n1 = new MemoryHost('n1');
    await w.agent(n1).connected();
    const costInputs = async () => (await w.store.inputs()).filter((r) => r.type === 'costs').map((r) => r.data);

    // 1024 MiB saved in 2 s: 512 MiB/s on n1, planned at 512 / 1.25.
    n1.report({ op: 'suspend', memoryMiB: 1024, ms: 2000 });
    const [first] = await until('the first costs input', async () => ((await costInputs()).length ? costInputs() : undefined));
    assert.deepEqual(first, { type: 'costs', suspendRateMBps: 512 / SAFETY_FACTOR });
    assert.equal(w.service.scheduler.primary.config.suspendRateMBps, 512 / SAFETY_FACTOR, 'the scheduler plans with it');
    const listed = await w.api('/v1/nodes');
    assert.deepEqual(listed.nodes.map((n: { id: string; estimates: unknown }) => [n.id, n.estimates]), [['n1', { suspendMiBps: 512, resumeMiBps: null, migrateMiBps: null, bootSeconds: null, samples: 1 }]]);

    // A second node, slower to resume; and n1's suspensions barely change (about 1%): only the
    // resume figure is new enough to log, and it is the slowest node's.
    const n2 = new MemoryHost('n2');
    await w.agent(n2).connected();
    n1.report({ op: 'suspend', memoryMiB: 1024, ms: 2100 });
    n1.report({ op: 'resume', memoryMiB: 1024, ms: 1000 });
    n2.report({ op: 'resume', memoryMiB: 1024, ms: 4000 });
    await until('the n2 timing', () => (w.pool.estimates.of('n2') ? true : undefined));
    const logged = await until('a costs input with n2\'s resume rate', async () => {
      const all = await costInputs();
      return all.at(-1) && (all.at(-1) as { resumeRateMBps?: number }).resumeRateMBps === 256 / SAFETY_FACTOR ? all : undefined;
    });
    // Each logged input says what the estimates were when it was logged; none for the 1% change alone.
    for (const input of logged.slice(1)) assert.ok((input as { resumeRateMBps?: number }).resumeRateMBps !== undefined, JSON.stringify(logged));
    assert.deepEqual(logged.at(-1), { type: 'costs', ...planningFigures(w.pool.estimates.slowest()) });
    assert.equal(w.service.scheduler.primary.config.resumeRateMBps, 256 / SAFETY_FACTOR);

    const after = await w.api('/v1/nodes');
    const n2Row = after.nodes.find((n: { id: string }) => n.id === 'n2');
    assert.deepEqual(n2Row.estimates, { suspendMiBps: null, resumeMiBps: 256, migrateMiBps: null, bootSeconds: null, samples: 1 });
    const doc = await w.api('/v1/openapi.json');
    assert.deepEqual(Object.keys(doc.components.schemas.NodeEstimates.properties), ['suspendMiBps', 'resumeMiBps', 'migrateMiBps', 'bootSeconds', 'samples']);
    assert.ok(doc.paths['/v1/nodes'].get.responses['200'], 'GET /v1/nodes documents its response');
  } finally {
    await w.close();
  }
});
