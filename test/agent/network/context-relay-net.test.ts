// The context relay as members reach it: two nodes (namespaces joined by a veth underlay) with one
// cluster network, a "guest" on each (a namespace of its own on a veth whose node end is a private
// port of the cluster bridge, guarded like a VM's tap), and each node's relay forwarding to an
// upstream of its own that answers with its node's name. Every node has the cluster's context
// address, so the answer proves which node's relay a guest reached: always its own, never the
// other one across the VXLAN.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FORWARDER_PATH, NodeContextRelay } from '../../../src/agent/context-relay-node.ts';
import { ClusterNetworks } from '../../../src/agent/network/cluster-networks.ts';
import { clusterBridgeName, privateTapName, type ClusterNetworkSpec } from '../../../src/agent/network/cluster-spec.ts';
import { Commands } from '../../../src/agent/network/commands.ts';
import { isRunning } from '../../../src/agent/network/processes.ts';
import { TapGuards } from '../../../src/agent/network/tap-guards.ts';
import { waitUntil } from '../../../src/agent/network/wait-until.ts';
import { CONTEXT_RELAY_PORT } from '../../../src/drivers/qemu/protocol.ts';
import { ip, killAllIn, twoNodeFabric } from '../../support/netns.ts';

const CONTEXT = '10.200.7.1';
const AGENT_ROUTE = '/v1/context/agent';
const guestMac = (i: number): string => `0a:00:00:07:00:0${i + 1}`;
const guestIp = (i: number): string => `10.200.7.${10 + i}`;

const json = <T>(text: string): T => JSON.parse(text || '[]') as T;

/**
 * What a guest's GET of the relay answers (wget exits non-zero on an error status). Run without
 * blocking: the relays and their upstreams live in this process, so a synchronous call would
 * keep them from answering.
 */
function guestGet(ns: string, path: string): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', ns, 'busybox', 'wget', '-q', '-O-', `http://${CONTEXT}:${CONTEXT_RELAY_PORT}${path}`], { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ ok: !error, out: error ? `${stderr}${error.message}` : stdout });
    });
  });
}

/** The body, once the relay answers (a guest's first request may come before the forwarder listens). */
async function relayedIn(ns: string, path: string): Promise<string> {
  let last = '';
  for (let attempt = 0; attempt < 50; attempt++) {
    const got = await guestGet(ns, path);
    if (got.ok) return got.out;
    last = got.out;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no answer from the relay at ${CONTEXT} in ${ns}: ${last}`);
}

/** The packets the node's bridge input chain counted under `comment`. */
function inputCount(ns: string, comment: string): number {
  const out = json<{ nftables: Array<{ rule?: { comment?: string; expr: Array<{ counter?: { packets: number } }> } }> }>(
    execFileSync('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'chain', 'bridge', 'vws', 'input'], { encoding: 'utf8' }),
  );
  const rule = out.nftables.find((e) => e.rule?.comment === comment)?.rule;
  assert.ok(rule, `the input chain has a rule "${comment}"`);
  return rule.expr.find((e) => e.counter)!.counter!.packets;
}

test('from each node a member reaches its own node\'s relay at the context address, through the guards; the forwarder comes back when it dies and is gone when the relay closes', { timeout: 180_000 }, async (t) => {
  const fabric = twoNodeFabric('crel');
  const guestNs = fabric.namespaces.map((ns) => `${ns}-g`);
  const dirs = fabric.namespaces.map(() => mkdtempSync(join(tmpdir(), 'vws-crel-')));
  const relays: NodeContextRelay[] = [];
  const upstreams = fabric.namespaces.map((_, i) => createServer((req, res) => res.end(`node-${i} ${req.method} ${req.url}`)));
  t.after(async () => {
    for (const r of relays) await r.close().catch(() => undefined);
    for (const u of upstreams) u.close();
    for (const ns of [...fabric.namespaces, ...guestNs]) await killAllIn(ns).catch(() => undefined);
    for (const ns of guestNs) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // not made
      }
    }
    fabric.destroy();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const urls = await Promise.all(upstreams.map((u) => new Promise<string>((resolve) => u.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(u.address() as AddressInfo).port}`)))));
  const nodes = await Promise.all(fabric.namespaces.map(async (ns, i) => {
    chmodSync(dirs[i], 0o755);
    const guards = await TapGuards.open(new Commands(ns), join(dirs[i], 'tap-guards.json'), new Set());
    const nets = await ClusterNetworks.open({ netns: ns, dir: join(dirs[i], 'clusters'), guards });
    const spec: ClusterNetworkSpec = { number: 7, vni: 1007, nodeAddress: `10.200.7.${254 - i}`, prefix: 24, contextAddress: CONTEXT, local: fabric.addresses[i], peers: [fabric.addresses[1 - i]] };
    // The member's own tap makes the cluster network here; the guest stands beside it on a veth.
    await nets.join(spec, { tap: privateTapName(`c7/${i}`), mac: `0a:00:00:07:00:a${i}`, ip: `10.200.7.${20 + i}` });
    return { ns, guards, nets };
  }));
  t.after(async () => {
    for (const n of nodes) await n.nets.close();
  });

  // A forwarder left running by an agent that crashed holds node 1's relay port: the relay replaces it.
  const stalePid = join(dirs[1], 'context-relay-forwarder.pid');
  const stale = spawn('ip', ['netns', 'exec', fabric.namespaces[1], process.execPath, FORWARDER_PATH, '--port', String(CONTEXT_RELAY_PORT), '--socket', join(dirs[1], 'context-relay.sock'), '--pid-file', stalePid], { stdio: 'ignore' });
  await waitUntil(() => { try { return Number(readFileSync(stalePid, 'utf8')) > 0; } catch { return false; } }, 10_000, () => new Error('the stale forwarder did not start'));

  for (const [i, ns] of fabric.namespaces.entries()) relays.push(await NodeContextRelay.start({ server: urls[i], netns: ns, dir: dirs[i] }));
  assert.ok(!isRunning(stale.pid!), 'the stale forwarder was replaced');
  assert.notEqual(relays[1].forwarderPid, stale.pid);

  for (const [i, ns] of fabric.namespaces.entries()) {
    const port = `vwpg${i}${process.pid % 10000}`;
    ip('netns', 'add', guestNs[i]);
    ip('link', 'add', port, 'netns', ns, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', guestNs[i]);
    ip('-n', guestNs[i], 'link', 'set', 'eth0', 'address', guestMac(i), 'up');
    ip('-n', guestNs[i], 'addr', 'add', `${guestIp(i)}/24`, 'dev', 'eth0');
    ip('-n', guestNs[i], 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'link', 'set', port, 'master', clusterBridgeName(7), 'up');
    await nodes[i].guards.set({ tap: port, mac: guestMac(i), ip: guestIp(i) });
  }

  const before = inputCount(fabric.namespaces[1], 'context-address-stays-on-node');
  assert.equal(await relayedIn(guestNs[0], AGENT_ROUTE), `node-0 GET ${AGENT_ROUTE}`);
  assert.ok(inputCount(fabric.namespaces[1], 'context-address-stays-on-node') > before, 'node 1 saw guest 0\'s ARP for the context address over the VXLAN, and did not answer it');
  assert.equal(await relayedIn(guestNs[1], AGENT_ROUTE), `node-1 GET ${AGENT_ROUTE}`);
  for (const [i, ns] of fabric.namespaces.entries()) {
    assert.ok(inputCount(ns, 'member-to-context-relay') > 0, `node ${i}'s guards let its member through to the relay`);
    const [bridge] = json<Array<{ address: string }>>(ip('-n', ns, '-j', 'link', 'show', 'dev', clusterBridgeName(7)));
    const [entry] = json<Array<{ lladdr?: string }>>(ip('-n', guestNs[i], '-j', 'neigh', 'show', CONTEXT, 'dev', 'eth0'));
    // Every node's bridge of the cluster has the same MAC (named for the bridge): a member that
    // moves to another node finds the context address where its ARP entry already points.
    assert.equal(entry?.lladdr, bridge.address, `guest ${i} holds its own node's bridge as the context address`);
  }
  // The members still reach each other across the nodes: a broadcast ARP is still flooded to local ports.
  await new Promise<void>((resolve, reject) => execFile('ip', ['netns', 'exec', guestNs[0], 'busybox', 'ping', '-c', '1', '-W', '5', guestIp(1)], (e) => (e ? reject(new Error(`guest 0 cannot ping guest 1 on the other node: ${e.message}`)) : resolve())));
  // Only the guest routes pass.
  const refused = await guestGet(guestNs[0], '/v1/leases');
  assert.ok(!refused.ok && /404/.test(refused.out), refused.out);

  // The forwarder dies: it comes back, and the guest reaches the relay again.
  const first = relays[0].forwarderPid!;
  process.kill(first, 'SIGKILL');
  await waitUntil(() => relays[0].forwarderPid !== undefined && relays[0].forwarderPid !== first, 30_000, () => new Error('the forwarder was not started again'));
  assert.equal(await relayedIn(guestNs[0], AGENT_ROUTE), `node-0 GET ${AGENT_ROUTE}`);

  // The relay closes: its forwarder goes with it.
  const last = relays[0].forwarderPid!;
  await relays.shift()!.close();
  assert.ok(!isRunning(last), 'the forwarder stopped with the relay');
  assert.ok(!execFileSync('ip', ['netns', 'pids', fabric.namespaces[0]], { encoding: 'utf8' }).split('\n').includes(String(last)));
});
