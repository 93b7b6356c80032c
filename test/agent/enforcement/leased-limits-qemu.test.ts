// What a lease gave is what its VM gets, on a real node (QemuHost in a namespace, the test guest
// under TCG): two guests side by side, `small` leased 0.5 CPU, 10 Mbit/s, a 16 MiB disk at 4 MB/s,
// and `large` leased 1 CPU and nothing else. Each measurement is made inside the guests, asked over
// HTTP by the test (enforced-node.ts), and asserted as a ratio in a generous band, never a time:
// - CPU: in the same seconds, the small guest does about half the large one's busy-loop work;
// - network: the small guest sends and receives at about its 10 Mbit/s, the large one far faster;
// - disk: the small guest reads its disk at about 4 MB/s and cannot write past its 16 MiB;
// - the kernel holds each VM's limits (cgroup quota and memory limit, tc rates), a restarted agent
//   puts a VM's QEMU back in its cgroups, a resumed VM and one live-migrated to a second node are
//   capped again in the process that runs them, and a VM gone leaves neither cgroup nor ifb behind.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { openVmCgroups } from '../../../src/agent/cgroups/vm-cgroups.ts';
import { hostCgroupLayout } from '../../../src/agent/cgroups/cgroup-layout.ts';
import { Commands } from '../../../src/agent/network/commands.ts';
import { tapName } from '../../../src/agent/network/links.ts';
import { shaperName, tapShaping } from '../../../src/agent/network/tap-shaper.ts';
import { processMemoryMiB } from '../../../src/agent/qemu/qemu-argv.ts';
import { vmDirName } from '../../../src/agent/vm-parts.ts';
import { waitFor } from '../../support/wait.ts';
import { type EnforcedNode, enforcedNode, mbpsOf } from './enforced-node.ts';
import { twoNodeFabric, type TwoNodeFabric } from '../../support/netns.ts';

// The runtime's KVM probe is not what this test is about; TCG, as the other VM tests (and memory limits allow for TCG's buffer).
process.env.VWS_ACCEL = 'tcg';

const SMALL = { id: `enf-${process.pid}-s/0`, ip: '10.77.0.10', mac: '52:54:00:e0:00:0a' };
const LARGE = { id: `enf-${process.pid}-l/0`, ip: '10.77.0.11', mac: '52:54:00:e0:00:0b' };
const LEASED_MBPS = 10;
const LEASED_DISK_MBPS = 4;
const SCRATCH_MIB = 16;

let fabric: TwoNodeFabric;
let node: EnforcedNode;
/** Only the target of a live migration. */
let other: EnforcedNode;
const log = (what: string, value: unknown) => process.stdout.write(`# measured ${what}: ${JSON.stringify(value)}\n`);

before(async () => {
  fabric = twoNodeFabric('enf');
  node = await enforcedNode('n0', fabric.namespaces[0], fabric.addresses[0]);
  other = await enforcedNode('n1', fabric.namespaces[1], fabric.addresses[1], node.files);
  const small = node.workload({ id: SMALL.id, cpu: 0.5, memoryMiB: 192, mac: SMALL.mac, scratchMiB: SCRATCH_MIB, bandwidthMbps: LEASED_MBPS, diskMBps: LEASED_DISK_MBPS, blobMiB: 4 }, SMALL.ip);
  const large = node.workload({ id: LARGE.id, cpu: 1, memoryMiB: 256, mac: LARGE.mac, blobMiB: 8 }, LARGE.ip);
  for (const w of [small, large]) assert.equal((await node.host.start(w)).state, 'running', `${w.vm.id} runs`);
  await Promise.all([node.ready(SMALL.ip), node.ready(LARGE.ip)]);
}, { timeout: 300_000 });

after(async () => {
  await node?.cleanup();
  await other?.cleanup();
  fabric?.destroy();
}, { timeout: 120_000 });

const pidOf = (id: string, on = node): number => Number(readFileSync(`${on.data}/vms/${vmDirName(id)}/qemu.pid`, 'utf8'));
const cgroups = (on = node) => openVmCgroups(on.data, undefined)!;

test('each QEMU runs in cgroups with its leased CPUs and its leased memory plus QEMU\'s own, and -m exactly as leased', () => {
  for (const [vm, cpu, memoryMiB] of [[SMALL, 0.5, 192], [LARGE, 1, 256]] as const) {
    const state = cgroups().state(vmDirName(vm.id));
    assert.ok(state, `${vm.id} has its cgroups`);
    assert.equal(state.cpuQuotaUs! / state.cpuPeriodUs, cpu, `${vm.id}: a quota of ${cpu} CPU`);
    assert.equal(state.memoryBytes, processMemoryMiB(memoryMiB, false) * 2 ** 20, `${vm.id}: its memory and QEMU's overhead`);
    const pid = pidOf(vm.id);
    assert.ok(state.pids.includes(pid), `${vm.id}'s QEMU ${pid} is in its cgroups: ${state.pids.join(' ')}`);
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.equal(argv[argv.indexOf('-m') + 1], String(memoryMiB), 'the guest has exactly its leased memory');
    assert.ok(!argv.some((a) => a.includes('balloon')), 'and no balloon to change it');
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
    log(`${vm.id} QEMU resident MiB (guest ${memoryMiB} MiB, limit ${processMemoryMiB(memoryMiB, false)} MiB)`, Math.round(rss));
  }
  const layout = hostCgroupLayout();
  log('cgroup layout', layout);
});

/** CPU seconds a process has used (user and system), from /proc. */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  // After "pid (comm) ": state is field 3, utime and stime fields 14 and 15, in clock ticks.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

test('a guest leased 0.5 CPU does about half the busy-loop work of one leased 1 CPU in the same seconds', { timeout: 120_000 }, async () => {
  const pids = [pidOf(SMALL.id), pidOf(LARGE.id)];
  const cpuBefore = pids.map(cpuSecondsOf);
  const started = process.hrtime.bigint();
  const [small, large] = (await Promise.all([node.get(SMALL.ip, '/cgi-bin/work?12'), node.get(LARGE.ip, '/cgi-bin/work?12')])).map((s) => Number(s.trim()));
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const [smallCpu, largeCpu] = pids.map((pid, i) => (cpuSecondsOf(pid) - cpuBefore[i]) / wall);
  assert.ok(small > 0 && large > 0, `both guests worked: ${small} and ${large} loops`);
  const ratio = small / large;
  log('CPU work ratio 0.5 CPU / 1 CPU', { small, large, ratio: Number(ratio.toFixed(3)), cpusUsed: { small: Number(smallCpu.toFixed(2)), large: Number(largeCpu.toFixed(2)) } });
  // The quota holds whatever else runs: the small guest's QEMU never has more than its half CPU.
  assert.ok(smallCpu <= 0.5 * 1.15 + 0.05, `the 0.5 CPU guest's QEMU used ${smallCpu.toFixed(2)} CPUs over ${wall.toFixed(1)} s`);
  assert.ok(ratio <= 0.75, `the 0.5 CPU guest did ${small} loops, the 1 CPU guest ${large}: a ratio of ${ratio.toFixed(2)}, so the quota did not hold`);
  // Under the quota the ratio sits below a half (0.43 with each guest alone): what a guest spends
  // besides the loop is about the same in both, a larger part of the smaller share. With the
  // machine busy (two test files at a time on 2 cores) both get less than leased and the ratio says
  // more of the machine than of the lease (0.16 seen in CI): the floor is checked only where the
  // 1 CPU guest had most of its CPU.
  if (largeCpu >= 0.8) assert.ok(ratio >= 0.2, `the 0.5 CPU guest did ${small} loops, the 1 CPU guest ${large} (which had ${largeCpu.toFixed(2)} CPUs): a ratio of ${ratio.toFixed(2)}, not about half`);
});

test('a guest leased 10 Mbit/s sends and receives at about that rate; its unlimited neighbour far faster', { timeout: 180_000 }, async () => {
  const shaping = await tapShaping(new Commands(node.netns), tapName(SMALL.id));
  assert.deepEqual(shaping, { toGuest: LEASED_MBPS * 1e6, fromGuest: LEASED_MBPS * 1e6 }, 'the small guest\'s tap is shaped both ways');
  assert.deepEqual(await tapShaping(new Commands(node.netns), tapName(LARGE.id)), { toGuest: null, fromGuest: null }, 'the large guest\'s is not');
  // What the small guest sends: the large one fetches the small one's blob; what it receives: the reverse.
  const sends = mbpsOf(await node.get(LARGE.ip, `/cgi-bin/fetch?${SMALL.ip}`));
  const receives = mbpsOf(await node.get(SMALL.ip, `/cgi-bin/fetch?${LARGE.ip}`));
  // The unlimited neighbour's: the node itself fetches its blob (8 MiB), timed on the host.
  const started = process.hrtime.bigint();
  const body = await node.get(LARGE.ip, '/blob');
  const unlimited = (body.length * 8) / (Number(process.hrtime.bigint() - started) / 1e9) / 1e6;
  log('network Mbit/s (leased 10)', { sends: sends.mbps, receives: receives.mbps, unlimitedNeighbour: unlimited });
  assert.equal(receives.bytes, 8 * 2 ** 20, 'the small guest got the whole blob');
  for (const [way, m] of [['sends', sends.mbps], ['receives', receives.mbps]] as const) {
    assert.ok(m >= 0.6 * LEASED_MBPS && m <= 1.2 * LEASED_MBPS, `the small guest ${way} at ${m.toFixed(2)} Mbit/s, not about its ${LEASED_MBPS}`);
  }
  assert.ok(unlimited >= 3 * LEASED_MBPS, `the unlimited neighbour moved ${unlimited.toFixed(1)} Mbit/s, not far more than ${LEASED_MBPS}`);
});

test('a guest leased 4 MB/s of disk reads at about that rate, and cannot write past its 16 MiB disk', { timeout: 180_000 }, async () => {
  const read = mbpsOf(await node.get(SMALL.ip, '/cgi-bin/read?12'));
  const mbs = read.mbps / 8;
  log('disk read MB/s (leased 4)', Number(mbs.toFixed(2)));
  assert.ok(mbs >= 0.6 * LEASED_DISK_MBPS && mbs <= 1.2 * LEASED_DISK_MBPS, `read at ${mbs.toFixed(2)} MB/s, not about its ${LEASED_DISK_MBPS}`);
  const fill = await node.get(SMALL.ip, '/cgi-bin/fill');
  log('writing past the disk', fill);
  assert.match(fill, new RegExp(`^disk ${SCRATCH_MIB} MiB$`, 'm'), 'the guest sees exactly its leased disk');
  assert.match(fill, /No space left on device/, 'writing on past its end fails inside the guest');
  assert.match(fill, new RegExp(`^${SCRATCH_MIB}\\+0 records out`, 'm'), `exactly ${SCRATCH_MIB} MiB were written before it failed`);
  assert.doesNotMatch(fill, /^rc 0$/m, 'neither write past the end succeeded');
});

test('a restarted agent puts a VM\'s QEMU back in its cgroups', { timeout: 120_000 }, async () => {
  const name = vmDirName(SMALL.id);
  const pid = pidOf(SMALL.id);
  // Out of its groups (into the agent's parent group), as if the groups had been lost: the restart must mend it.
  const layout = hostCgroupLayout();
  assert.ok(!('problem' in layout));
  for (const c of ['cpu', 'memory'] as const) {
    writeFileSync(`${layout[c].mount}${layout[c].parent === '/' ? '' : layout[c].parent}/cgroup.procs`, `${pid}\n`);
  }
  assert.ok(!cgroups().state(name)!.pids.includes(pid), 'moved out');
  await node.restart();
  assert.equal((await node.host.status()).find((v) => v.id === SMALL.id)?.state, 'running', 'the VM ran on through the restart');
  assert.ok(cgroups().state(name)!.pids.includes(pid), 'the restarted agent put its QEMU back in its cgroups');
});

/** The names of the links in a node's namespace. */
const linksOf = async (on: EnforcedNode) => (JSON.parse(await new Commands(on.netns).ip(['-j', 'link', 'show'])) as Array<{ ifname: string }>).map((l) => l.ifname);

test('a resumed VM and one live-migrated to another node are capped again; a VM gone leaves no cgroup, tap or ifb', { timeout: 240_000 }, async () => {
  // Suspended: its process and cgroups are gone; resumed: a new process, in new cgroups, capped as before.
  const large = vmDirName(LARGE.id);
  await node.host.suspend({ id: LARGE.id });
  assert.equal(cgroups().state(large), null, 'a suspended VM has no cgroups');
  assert.equal((await node.host.resume({ id: LARGE.id })).state, 'running');
  const resumed = cgroups().state(large)!;
  assert.deepEqual([resumed.cpuQuotaUs! / resumed.cpuPeriodUs, resumed.pids.includes(pidOf(LARGE.id))], [1, true], 'the resumed QEMU runs in its cgroups at its 1 CPU');

  // Live: the receiver's new QEMU starts in its cgroups and on a shaped tap; the sender keeps nothing.
  const small = vmDirName(SMALL.id);
  const workload = await node.host.workload({ id: SMALL.id });
  const landing = await other.host.incoming({ ...workload, vm: { ...workload.vm, node: other.name } });
  await node.host.migrateLive({ id: SMALL.id, to: landing });
  assert.equal((await other.host.arrived({ id: SMALL.id })).state, 'running');
  const there = cgroups(other).state(small)!;
  assert.deepEqual([there.cpuQuotaUs! / there.cpuPeriodUs, there.pids.includes(pidOf(SMALL.id, other))], [0.5, true], 'the migrated QEMU runs in its cgroups at its 0.5 CPU');
  assert.deepEqual(await tapShaping(new Commands(other.netns), tapName(SMALL.id)), { toGuest: LEASED_MBPS * 1e6, fromGuest: LEASED_MBPS * 1e6 }, 'its tap there is shaped both ways');
  const argv = readFileSync(`/proc/${pidOf(SMALL.id, other)}/cmdline`, 'utf8');
  assert.match(argv, new RegExp(`throttling\\.bps-total=${LEASED_DISK_MBPS * 1e6},`), 'its disk is throttled there too');
  await waitFor('the sender\'s cgroups of the migrated VM gone', () => cgroups().state(small) === null);
  const ours = [tapName(SMALL.id), shaperName(tapName(SMALL.id))];
  assert.deepEqual((await linksOf(node)).filter((l) => ours.includes(l)), [], 'nor its tap or ifb');

  await other.host.stop({ id: SMALL.id, graceful: false });
  await waitFor('the stopped VM\'s cgroups gone', () => cgroups(other).state(small) === null);
  assert.deepEqual((await linksOf(other)).filter((l) => ours.includes(l)), [], 'a stopped VM leaves no tap or ifb');
});
