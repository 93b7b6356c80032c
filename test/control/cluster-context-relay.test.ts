// The real context agents complete a cluster's context through a node's context relay: every call
// of the protocol (exchange, report, the signed context, done) passes it, and the agents check the
// context's signature over the bytes the relay handed them.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { ContextRelay } from '../../src/agent/context-relay.ts';
import { deployedCluster, type Json, memberRoot, memberSeeds, runAgent, world } from './support/cluster-context-world.ts';

test('the real agents of a 1 + 2 cluster complete its context through the relay', async () => {
  const w = await world();
  const relay = await ContextRelay.listen({ upstream: w.url }, { host: '127.0.0.1', port: 0 });
  try {
    const id = await deployedCluster(w);
    const seeds = (await memberSeeds(w, id, 3)).map((s) => s!);
    const relayUrl = `http://127.0.0.1:${relay.port}`;
    const roots = seeds.map((s) => {
      const m = memberRoot(w, s, s.member === 'head-0' ? { 'nfs-export': `${s.hostname}:/srv` } : {});
      // As a seed for a member with a private NIC names it: the relay, in place of the guest URL.
      writeFileSync(m.config, JSON.stringify({ ...(JSON.parse(s.configText) as Json), server: relayUrl }), { mode: 0o600 });
      return m;
    });
    const results = await Promise.all(roots.map(runAgent));
    for (const [i, r] of results.entries()) assert.equal(r.code, 0, `${seeds[i].member}: ${r.stderr}`);
    await w.settle();
    const shown = (await w.call('GET', `/v1/leases/${id}`)).body;
    assert.equal(shown.context.status, 'complete');
    assert.deepEqual(shown.workspaces.map((x: Json) => x.context.state), ['complete', 'complete', 'complete']);
  } finally {
    await relay.close();
    await w.close();
  }
});
