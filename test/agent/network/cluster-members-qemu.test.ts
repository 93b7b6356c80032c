// Cluster members started through the agent's own host (QemuHost: VmParts, the QEMU command line,
// the real runtime) on two namespaced nodes, from workloads as the service sends them: a head on
// both networks on one node (two NICs: public first, private second) and a private-only worker on
// the other (one NIC). The worker's address is the private one and its node reports it; each
// reaches the other over the cluster's VXLAN; stopping the worker takes its node's cluster
// network down. Each member fetches the context agent through its own node's context relay at the
// cluster's context address: each node's service answers with the node's name.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildTestGuest } from '../../../guest/build.ts';
import { privateTapName } from '../../../src/agent/network/cluster-spec.ts';
import { tapName } from '../../../src/agent/network/links.ts';
import { waitUntil } from '../../../src/agent/network/wait-until.ts';
import { QemuHost } from '../../../src/agent/qemu-host.ts';
import { vmFiles } from '../../../src/agent/qemu/qemu-argv.ts';
import type { VmStatus } from '../../../src/drivers/driver.ts';
import { CONTEXT_RELAY_PORT, type ImageRef, type Workload } from '../../../src/drivers/qemu/protocol.ts';
import { inNetns, killAllIn, twoNodeFabric } from '../../support/netns.ts';
import { AWAIT, probeInitrd, probeResults, REACH } from './guest-probe.ts';

/** The probe line: what the context agent's route answers through the relay at the cluster's context address. */
const RELAYED = `echo "VWS-PROBE relay $(wget -q -O- http://10.200.9.1:${CONTEXT_RELAY_PORT}/v1/context/agent || echo failed)"`;

// The runtime's KVM probe is not what this test is about; TCG everywhere, as the other VM tests.
process.env.VWS_ACCEL = 'tcg';

test('a head on both networks and a private-only worker, started by agents on two nodes, reach each other over the cluster network', { timeout: 300_000 }, async (t) => {
  const guest = buildTestGuest();
  const fabric = twoNodeFabric('cmq');
  const dir = mkdtempSync(join(tmpdir(), 'vws-cmq-'));
  chmodSync(dir, 0o755);
  const hosts: QemuHost[] = [];
  t.after(async () => {
    for (const h of hosts) await h.close();
    for (const ns of fabric.namespaces) await killAllIn(ns);
    fabric.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  const [ua, ub] = fabric.addresses;
  const headPrivate = '10.200.9.10';
  const workerPrivate = '10.200.9.11';
  const files: Record<string, string> = {
    kernel: guest.kernel,
    'head-initrd': probeInitrd(
      [REACH, AWAIT, 'ip link set eth1 up', 'udhcpc -i eth1 -s /etc/udhcpc.script -n -q -t 20 -T 1 >/dev/null 2>&1', `await worker ${workerPrivate}`, RELAYED, 'echo "VWS-PROBE done yes"'].join('\n'),
      join(dir, 'head.initrd'),
    ),
    'worker-initrd': probeInitrd([REACH, AWAIT, `await head ${headPrivate}`, RELAYED, 'echo "VWS-PROBE done yes"'].join('\n'), join(dir, 'worker.initrd')),
  };
  // The service's image store, as far as the agent's fetch needs it, and the context agent's
  // route, answered with the node's name: one service per node, so a member's answer says which
  // node's relay it reached.
  const urls = await Promise.all(fabric.namespaces.map(async (_, i) => {
    const server = createServer((req, res) => {
      if (req.url === '/v1/context/agent') return void res.end(`agent-via-n${i}`);
      const name = /^\/v1\/images\/([^/]+)\/content$/.exec(req.url ?? '')?.[1];
      if (!name || !files[name]) return void res.writeHead(404).end();
      createReadStream(files[name]).pipe(res.writeHead(200));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }));
  const ref = (name: string): ImageRef => ({ name, sha256: createHash('sha256').update(readFileSync(files[name])).digest('hex'), sizeMiB: Math.max(1, Math.ceil(statSync(files[name]).size / 2 ** 20)) });

  const statuses: VmStatus[] = [];
  for (const [i, ns] of fabric.namespaces.entries()) {
    const host = await QemuHost.open({
      data: join(dir, `node-${i}`), server: urls[i], token: 't', imageCacheMiB: 256, bridge: 'vwsbr0', netns: ns, underlay: fabric.addresses[i], contextRelay: {},
      node: { name: `n${i}`, cpu: 2, memoryMiB: 1024, diskMiB: 1024, transferAddress: fabric.addresses[i], migrationAddress: fabric.addresses[i], underlayAddress: fabric.addresses[i] },
    });
    hosts.push(host);
    host.onChange((vm) => statuses.push(vm));
    await host.useNetwork({ bridgeAddress: '10.77.0.1', prefix: 24 });
  }
  const cluster = { number: 9, vni: 10_009, prefix: 24, contextAddress: '10.200.9.1' };
  const head: Workload = {
    vm: { id: 'C9/0', leaseId: 'C9', index: 0, node: 'n0', cpu: 1, memoryMiB: 128, image: null, mac: '52:54:00:09:00:10', networks: ['public', 'private'] },
    ip: '10.77.0.10', disk: null, boot: { kernel: ref('kernel'), initrd: ref('head-initrd'), cmdline: guest.cmdline },
    nics: [{ network: 'private', mac: '0a:00:00:09:00:0a', ip: headPrivate }],
    cluster: { ...cluster, nodeAddress: '10.200.9.254', peers: [ub] },
  };
  const worker: Workload = {
    vm: { id: 'C9/1', leaseId: 'C9', index: 1, node: 'n1', cpu: 1, memoryMiB: 128, image: null, mac: '0a:00:00:09:00:0b', networks: ['private'] },
    ip: workerPrivate, disk: null, boot: { kernel: ref('kernel'), initrd: ref('worker-initrd'), cmdline: guest.cmdline },
    nics: [{ network: 'private', mac: '0a:00:00:09:00:0b', ip: workerPrivate }],
    cluster: { ...cluster, nodeAddress: '10.200.9.253', peers: [ua] },
    publicNic: false,
  };
  assert.equal((await hosts[0].start(head)).state, 'running');
  assert.equal((await hosts[1].start(worker)).state, 'running');

  const serialOf = (i: number, id: string) => {
    const file = vmFiles(join(dir, `node-${i}`, 'vms', id.replace('/', '%2f'))).serial;
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  };
  const done = (i: number, id: string) =>
    waitUntil(() => serialOf(i, id).includes('VWS-PROBE done yes'), 240_000, () => new Error(`${id} never finished its probe; serial: ${serialOf(i, id)}`), 200);
  await Promise.all([done(0, 'C9/0'), done(1, 'C9/1')]);

  const headSerial = serialOf(0, 'C9/0');
  assert.match(headSerial, /VWS-GUEST-READY ip=10\.77\.0\.10 mac=52:54:00:09:00:10/, "the head's first NIC is its public one");
  assert.match(headSerial, new RegExp(`VWS-GUEST-READY ip=${headPrivate.replace(/\./g, '\\.')} mac=0a:00:00:09:00:0a`), 'its second NIC got its private address');
  assert.equal(probeResults(headSerial).get('worker'), 'reached', 'the head reaches the worker on the other node');
  assert.equal(probeResults(serialOf(1, 'C9/1')).get('head'), 'reached', 'and the worker the head');
  assert.equal(probeResults(headSerial).get('relay'), 'agent-via-n0', "the head reaches the broker's routes through its own node's relay");
  assert.equal(probeResults(serialOf(1, 'C9/1')).get('relay'), 'agent-via-n1', 'and the private-only worker through its own node\'s, on the other node');
  await waitUntil(() => statuses.find((s) => s.id === 'C9/1' && s.ip === workerPrivate), 30_000, () => new Error(`the worker's node never reported its private address: ${JSON.stringify(statuses)}`));
  await waitUntil(() => statuses.find((s) => s.id === 'C9/0' && s.ip === '10.77.0.10'), 30_000, () => new Error(`the head's node never reported its public address: ${JSON.stringify(statuses)}`));

  // The head's agent restarts after its filters were lost (table and record): it adopts the
  // running VM and guards both its taps again.
  const chains = () => [...inNetns(fabric.namespaces[0], ['nft', 'list', 'table', 'bridge', 'vws']).matchAll(/chain guard-(\S+) \{/g)].map((m) => m[1]).sort();
  const headTaps = [tapName('C9/0'), privateTapName('C9/0')].sort();
  assert.deepEqual(chains(), headTaps);
  await hosts[0].close();
  inNetns(fabric.namespaces[0], ['nft', 'delete', 'table', 'bridge', 'vws']);
  rmSync(join(dir, 'node-0', 'network', 'tap-guards.json'));
  hosts[0] = await QemuHost.open({
    data: join(dir, 'node-0'), server: urls[0], token: 't', imageCacheMiB: 256, bridge: 'vwsbr0', netns: fabric.namespaces[0], underlay: ua,
    node: { name: 'n0', cpu: 2, memoryMiB: 1024, diskMiB: 1024, transferAddress: ua, migrationAddress: ua, underlayAddress: ua },
  });
  await hosts[0].useNetwork({ bridgeAddress: '10.77.0.1', prefix: 24 });
  assert.deepEqual(chains(), headTaps, 'both taps of the running head are guarded again after the restart');
  assert.equal((await hosts[0].status()).find((v) => v.id === 'C9/0')?.state, 'running', 'the head ran on through the restart');

  await hosts[1].stop({ id: 'C9/1', graceful: false });
  const links = JSON.parse(inNetns(fabric.namespaces[1], ['ip', '-j', 'link', 'show'])) as Array<{ ifname: string }>;
  assert.ok(!links.some((l) => /^vw[cxp]/.test(l.ifname)), `the worker's node has no cluster link left: ${links.map((l) => l.ifname).join(' ')}`);
});
