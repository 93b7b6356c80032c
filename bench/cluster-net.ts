// npm run bench:cluster-net — what a cluster network costs a node, in a network namespace of its
// own (needs root): set-up (bridge, VXLAN port with a peer, the tap-guard table, a dnsmasq, one
// member's guarded tap and DHCP entry) and tear-down (the last member leaving), against adding and
// removing one plain tap on the node's existing bridge, the two taking turns in the same run; and,
// for what the trusted layer alone costs, one guarded tap (tap + its nft chain).
// Each figure is the median of REPEAT runs (default 10); writes bench/results/cluster-net.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ClusterNetworks } from '../src/agent/network/cluster-networks.ts';
import { privateTapName } from '../src/agent/network/cluster-spec.ts';
import { NodeNetwork, tapName } from '../src/agent/network/node-network.ts';
import { sandbox } from '../test/agent/network/sandbox.ts';

const root = new URL('..', import.meta.url).pathname;
const REPEAT = Number(process.env.BENCH_REPEAT ?? 10);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const box = sandbox('bench');
try {
  box.sh('ip', ['link', 'add', 'underlay0', 'type', 'veth', 'peer', 'name', 'underlay1']);
  box.sh('ip', ['addr', 'add', '10.98.0.1/30', 'dev', 'underlay0']);
  box.sh('ip', ['link', 'set', 'underlay0', 'up']);
  const net = await NodeNetwork.open({ netns: box.netns, bridge: 'vwsbr0', gateway: '10.77.0.1', prefix: 24, dir: join(box.dir, 'net') });
  const clusters = await ClusterNetworks.open({ netns: box.netns, dir: join(box.dir, 'clusters'), guards: net.guards });
  const runs: Array<{ clusterUpMs: number; clusterDownMs: number; tapUpMs: number; tapDownMs: number; guardedUpMs: number; guardedDownMs: number }> = [];
  for (let i = 0; i < REPEAT; i++) {
    const tap = tapName(`plain-${i}`);
    const tapUpMs = await timed(() => net.addTap(tap));
    const tapDownMs = await timed(() => net.removeTap(tap));
    const guardedUpMs = await timed(() => net.addTap(tap, { mac: '52:54:00:00:00:0a', ip: '10.77.0.10' }));
    const guardedDownMs = await timed(() => net.removeTap(tap));
    const spec = { number: 1 + i, vni: 20_000 + i, nodeAddress: '10.200.0.254', prefix: 24, contextAddress: '10.200.0.1', local: '10.98.0.1', peers: ['10.98.0.2'] };
    const member = { tap: privateTapName(`member-${i}`), mac: '0a:00:00:01:00:0a', ip: '10.200.0.10' };
    const clusterUpMs = await timed(() => clusters.join(spec, member));
    const clusterDownMs = await timed(() => clusters.unplug(spec.number, member.tap, member.mac, true));
    runs.push({ clusterUpMs, clusterDownMs, tapUpMs, tapDownMs, guardedUpMs, guardedDownMs });
  }
  const m = {
    clusterUpMs: median(runs.map((r) => r.clusterUpMs)),
    clusterDownMs: median(runs.map((r) => r.clusterDownMs)),
    tapUpMs: median(runs.map((r) => r.tapUpMs)),
    tapDownMs: median(runs.map((r) => r.tapDownMs)),
    guardedUpMs: median(runs.map((r) => r.guardedUpMs)),
    guardedDownMs: median(runs.map((r) => r.guardedDownMs)),
  };
  const result = {
    runs: REPEAT,
    medians: m,
    ratios: { setUp: m.clusterUpMs / m.tapUpMs, tearDown: m.clusterDownMs / m.tapDownMs, both: (m.clusterUpMs + m.clusterDownMs) / (m.tapUpMs + m.tapDownMs), guardedTap: (m.guardedUpMs + m.guardedDownMs) / (m.tapUpMs + m.tapDownMs) },
    all: runs,
  };
  const r = (x: number) => x.toFixed(1);
  process.stdout.write(`cluster network set-up ${r(m.clusterUpMs)} ms, tear-down ${r(m.clusterDownMs)} ms (median of ${REPEAT})\n`);
  process.stdout.write(`plain tap add ${r(m.tapUpMs)} ms, remove ${r(m.tapDownMs)} ms; guarded tap add ${r(m.guardedUpMs)} ms, remove ${r(m.guardedDownMs)} ms\n`);
  process.stdout.write(`ratios: set-up x${result.ratios.setUp.toFixed(1)}, tear-down x${result.ratios.tearDown.toFixed(1)}, both x${result.ratios.both.toFixed(1)}; guarded tap x${result.ratios.guardedTap.toFixed(1)} of a plain one\n`);
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, 'bench/results/cluster-net.json'), `${JSON.stringify(result, null, 2)}\n`);
  await clusters.close();
  await net.tearDown();
} finally {
  await box.cleanup();
}
