// A VM's seed comes from its lease as the API took it: the host name its workspace shows, the
// owner's keys, the lease's own user-data; read back with cloud-init's own reader (Debian's
// cloud-init on the host), from leases made through the API on a real SQLite file.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leaseSeeds } from '../../src/broker/lease-seeds.ts';
import type { VmSpec } from '../../src/drivers/driver.ts';
import type { SeedFiles } from '../../src/drivers/qemu/protocol.ts';
import { apiWorld, lease } from '../api/api-world.ts';
import { cluster, ed25519Line } from '../api/cluster-body.ts';
import { readSeeds } from '../seed/seed-reader.ts';
import { deployedCluster, memberSeeds, world } from '../control/support/cluster-context-world.ts';

const vm = (leaseId: string, index: number): VmSpec => ({ id: `${leaseId}/${index}`, leaseId, index, node: 'n1', cpu: 1, memoryMiB: 256, image: null, mac: `52:54:00:00:00:1${index}` });

test('each VM of a cluster gets its role\'s host name, the owner\'s keys and the lease\'s user-data; a plain lease LEASE-K; an unknown lease the plain seed', async () => {
  const w = await apiWorld(4);
  try {
    const key = ed25519Line();
    const userData = '#cloud-config\nruncmd:\n  - [touch, /tmp/from-the-lease]\n';
    const made = await w.call(w.tokens.alice, 'POST', '/v1/leases', cluster({ userData, sshPublicKeys: [key] }));
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const id = made.body.lease.id as string;
    const plain = (await w.call(w.tokens.alice, 'POST', '/v1/leases', lease())).body.lease.id as string;
    const seeds = leaseSeeds(w.store);
    const made3: Array<SeedFiles | null> = [];
    for (const i of [0, 1, 2]) made3.push(await seeds(vm(id, i)));
    const read = readSeeds([...made3, await seeds(vm(plain, 0)), await seeds(vm('l-nobody', 0))].map((s) => s as SeedFiles));
    assert.deepEqual(read.map((r) => r.metaData['local-hostname']), [`${id}-head-0`, `${id}-worker-0`, `${id}-worker-1`, `${plain}-0`, 'vws-l-nobody-0']);
    for (const r of read.slice(0, 3)) {
      assert.equal(r.parts.length, 2, 'vws\'s part and the lease\'s');
      assert.equal(r.parts[1].text, userData);
      for (const p of r.parts) assert.equal(p.schemaProblem ?? null, null, p.text);
      const merged = r.merged as { ssh_authorized_keys: string[]; runcmd: string[][] };
      assert.deepEqual(merged.ssh_authorized_keys, [key]);
      assert.deepEqual(merged.runcmd.at(-1), ['touch', '/tmp/from-the-lease']);
    }
    assert.equal(read[3].parts.length, 1, 'a lease without user-data has vws\'s part only');
    // The seed names the same host the API shows for the workspace.
    let shown: string[] = [];
    for (let round = 0; round < 20 && shown.length < 3; round++) {
      await w.service.idle();
      shown = (await w.call(w.tokens.alice, 'GET', `/v1/leases/${id}`)).body.workspaces.map((x: { hostname: string }) => x.hostname);
    }
    assert.deepEqual(shown, read.slice(0, 3).map((r) => r.metaData['local-hostname']));
  } finally {
    await w.close();
  }
});

test('a member with a NIC on its cluster\'s private network reaches the broker through its node\'s relay at the context address; one without keeps the guest URL', async () => {
  const w = await world();
  try {
    const id = await deployedCluster(w);
    const relay = 'http://10.200.3.1:8775';
    const privateNic = { network: 'private' as const, mac: '0a:00:00:03:00:0b', contextAddress: '10.200.3.1' };
    const seeds = await memberSeeds(w, id, 3, (i) => [
      [{ network: 'public' as const, mac: '52:54:00:00:02:10' }, { ...privateNic, mac: '0a:00:00:03:00:0a' }],
      [privateNic],
      undefined,
    ][i]);
    const urls = seeds.map((s) => ({ agent: s!.agentUrl, server: (JSON.parse(s!.configText) as { server: string }).server }));
    assert.deepEqual(urls, [
      { agent: `${relay}/v1/context/agent`, server: relay },
      { agent: `${relay}/v1/context/agent`, server: relay },
      { agent: `${w.url}/v1/context/agent`, server: w.url },
    ]);
  } finally {
    await w.close();
  }
});
