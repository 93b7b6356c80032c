// Where a VM's cgroups go and what QEMU is started with, without a VM: which hierarchy each
// controller is found in (v1, v2, a hybrid host like this one), what the VM groups' files say under
// cgroup v2 (written to a directory laid out like one: no v2 cpu controller is to be had on a host
// whose cpu controller is bound to v1, as here; v1 is what leased-limits-qemu.test.ts shows on the
// real kernel), and QEMU's command line: exact memory, no balloon, the cgroup join, the throttles.
// And, on this host's own cgroups, that a process outgrowing a VM's memory limit is killed there.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cgroupLayout, hostCgroupLayout, parseMounts, parseProcCgroup } from '../../../src/agent/cgroups/cgroup-layout.ts';
import { CPU_PERIOD_US, VmCgroups } from '../../../src/agent/cgroups/vm-cgroups.ts';
import { processMemoryMiB, qemuCommand, TCG_BUFFER_MIB } from '../../../src/agent/qemu/qemu-argv.ts';
import type { VmProcessConfig } from '../../../src/agent/vm-runtime.ts';

const HYBRID_MOUNTS = [
  'tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0',
  'cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0',
  'cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0',
  'cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0',
].join('\n');
const HYBRID_SELF = '4:memory:/process_api/abc\n1:cpu:/\n0::/\n';

test('each controller is found where it is bound: v1 beside an empty cgroup2, v2 when its root offers it, co-mounted v1', () => {
  const hybrid = cgroupLayout({ mounts: parseMounts(HYBRID_MOUNTS), self: parseProcCgroup(HYBRID_SELF), v2Controllers: () => [] });
  assert.deepEqual(hybrid, {
    cpu: { version: 1, mount: '/sys/fs/cgroup/cpu', parent: '/' },
    memory: { version: 1, mount: '/sys/fs/cgroup/memory', parent: '/process_api/abc' },
  }, 'the agent\'s own cgroup in each v1 hierarchy; the empty cgroup2 is passed over');

  const unified = cgroupLayout({ mounts: parseMounts('cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0'), self: parseProcCgroup('0::/system.slice/vws-agent.service\n'), v2Controllers: () => ['cpuset', 'cpu', 'io', 'memory', 'pids'] });
  assert.deepEqual(unified, {
    cpu: { version: 2, mount: '/sys/fs/cgroup', parent: '/system.slice/vws-agent.service' },
    memory: { version: 2, mount: '/sys/fs/cgroup', parent: '/system.slice/vws-agent.service' },
  });
  const given = cgroupLayout({ mounts: parseMounts('cgroup2 /sys/fs/cgroup cgroup2 rw 0 0'), self: parseProcCgroup('0::/x\n'), v2Controllers: () => ['cpu', 'memory'], parent: '/vws.slice' });
  assert.ok(!('problem' in given) && given.cpu.parent === '/vws.slice', '--cgroup-parent is taken as given');

  const comounted = cgroupLayout({ mounts: parseMounts('cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,cpu,cpuacct 0 0\ncgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0'), self: parseProcCgroup('3:cpu,cpuacct:/a\n2:memory:/b\n'), v2Controllers: () => [] });
  assert.deepEqual(comounted, { cpu: { version: 1, mount: '/sys/fs/cgroup/cpu,cpuacct', parent: '/a' }, memory: { version: 1, mount: '/sys/fs/cgroup/memory', parent: '/b' } });

  const none = cgroupLayout({ mounts: parseMounts('cgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0'), self: parseProcCgroup('1:cpu:/\n'), v2Controllers: () => [] });
  assert.ok('problem' in none && /no cgroup hierarchy has the memory controller.*--cgroups off/.test(none.problem), JSON.stringify(none));
  assert.deepEqual(parseMounts('cgroup /sys/fs/cgroup/with\\040space cgroup rw,memory 0 0')[0].path, '/sys/fs/cgroup/with space', 'octal escapes in mount paths are read');
});

/** A directory laid out like a cgroup v2 hierarchy: its root offers cpu and memory, and the parent group exists. */
function fakeV2(): string {
  const root = mkdtempSync(join(tmpdir(), 'vws-fake-cgroup2-'));
  const group = (dir: string, controllers: string) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'cgroup.controllers'), `${controllers}\n`);
    writeFileSync(join(dir, 'cgroup.subtree_control'), '\n');
  };
  group(root, 'cpu memory');
  group(join(root, 'vws.slice'), 'cpu memory');
  return root;
}

test('under cgroup v2 the agent enables cpu and memory below its parent and writes cpu.max, cpu.weight and memory.max', async () => {
  const root = fakeV2();
  try {
    const place = { version: 2 as const, mount: root, parent: '/vws.slice' };
    // The kernel makes a group's files when the directory is made; here the agent's group gets them first.
    const agentGroup = join(root, 'vws.slice', 'vws-t1');
    mkdirSync(agentGroup);
    writeFileSync(join(agentGroup, 'cgroup.controllers'), 'cpu memory\n');
    writeFileSync(join(agentGroup, 'cgroup.subtree_control'), '\n');
    const groups = VmCgroups.open({ cpu: place, memory: place }, 't1');
    assert.equal(readFileSync(join(root, 'vws.slice', 'cgroup.subtree_control'), 'utf8'), '+memory\n', 'the parent enables the controllers for the agent\'s group (the last write shown)');
    const procs = groups.prepare('lease-1%2f0', { cpu: 0.5, memoryMiB: 400 });
    const dir = join(agentGroup, 'lease-1%2f0');
    assert.deepEqual(procs, [join(dir, 'cgroup.procs')], 'one group for both controllers');
    assert.equal(readFileSync(join(dir, 'cpu.max'), 'utf8'), `${CPU_PERIOD_US / 2} ${CPU_PERIOD_US}\n`);
    assert.equal(readFileSync(join(dir, 'cpu.weight'), 'utf8'), '50\n', 'weighed in proportion to its CPUs');
    assert.equal(readFileSync(join(dir, 'memory.max'), 'utf8'), `${400 * 2 ** 20}\n`);
    assert.throws(() => groups.prepare('../escape', { cpu: 1, memoryMiB: 1 }), /not a VM's cgroup name/);
    assert.throws(() => groups.prepare('x', { cpu: Number.NaN, memoryMiB: 1 }), /a CPU limit must be a positive number, got NaN/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('cgroup v2 refuses a parent not offered the controllers, saying what to do', () => {
  const root = fakeV2();
  try {
    writeFileSync(join(root, 'vws.slice', 'cgroup.controllers'), 'memory\n');
    const place = { version: 2 as const, mount: root, parent: '/vws.slice' };
    assert.throws(() => VmCgroups.open({ cpu: place, memory: place }, 't2'), /is not offered the cpu controller \(its cgroup.controllers: memory\): enable it in its parent's cgroup.subtree_control, or give another --cgroup-parent/);
    assert.throws(() => VmCgroups.open({ cpu: { ...place, parent: '/missing' }, memory: place }, 't3'), /the cgroup parent .*\/missing \(cpu controller\) does not exist/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

const config: VmProcessConfig = {
  id: 'l/0', dir: '/v/l', cpu: 1, memoryMiB: 192, disks: [{ path: '/v/l/disk.qcow2', format: 'qcow2' }, { path: '/v/l/scratch.qcow2', format: 'qcow2' }],
  seed: '/v/l/seed.iso', nic: { mac: '52:54:00:00:00:01', tap: 'vwt0000000001' }, netns: 'ns1',
};

test('QEMU gets exactly its leased memory and no balloon, joins its cgroups before it runs, and its disks share one throttle group', () => {
  const plain = qemuCommand(config, 'none', false);
  assert.equal(plain.program, 'ip', 'no cgroups: started as before');
  assert.equal(plain.args[plain.args.indexOf('-m') + 1], '192');
  assert.equal(plain.args[plain.args.indexOf('-accel') + 1], `tcg,tb-size=${TCG_BUFFER_MIB}`, 'TCG\'s buffer is capped');
  assert.ok(!plain.args.some((a) => /balloon|throttling/.test(a)), 'no balloon, and a lease without I/O limits is not throttled');
  assert.equal(qemuCommand(config, 'none', true).args[qemuCommand(config, 'none', true).args.indexOf('-accel') + 1], 'kvm');

  const capped = qemuCommand({ ...config, cgroupProcs: ['/cg/cpu/x/cgroup.procs', '/cg/memory/x/cgroup.procs'], diskThrottle: { bytesPerSecond: 4_000_000, iops: 200 } }, 'none', false);
  assert.equal(capped.program, '/bin/sh');
  assert.deepEqual(capped.args.slice(2, 8), ['vws-join-cgroups', '2', '/cg/cpu/x/cgroup.procs', '/cg/memory/x/cgroup.procs', 'ip', 'netns'], 'the files to join, then the command');
  const drives = capped.args.filter((_, i) => capped.args[i - 1] === '-drive');
  assert.deepEqual(drives.map((d) => d.includes('throttling.bps-total=4000000,throttling.iops-total=200,throttling.group=vws-io')), [true, true, false], 'both disks in one group; the seed is not throttled');
  assert.equal(processMemoryMiB(192, false), 192 + 128 + 6 + TCG_BUFFER_MIB, 'the limit: the guest, QEMU\'s fixed part, its part per guest MiB and TCG\'s buffer');
  assert.equal(processMemoryMiB(4096, true), 4096 + 128 + 128, 'no buffer under KVM');
});

test('a process that grows past its VM\'s memory limit is killed by the kernel in its group, not let take the node', { timeout: 60_000 }, async () => {
  const layout = hostCgroupLayout();
  assert.ok(!('problem' in layout), JSON.stringify(layout));
  const groups = VmCgroups.open(layout, `oom-${process.pid}`);
  try {
    const procs = groups.prepare('runaway', { cpu: 1, memoryMiB: 96 });
    // Joins the group as QEMU does (qemu-argv.ts), then touches 512 MiB.
    const child = spawn('/bin/sh', ['-c', 'for f; do echo $$ > "$f" || exit 125; done; exec "$0" -e "const b = []; for (let i = 0; i < 64; i++) b.push(Buffer.alloc(8 << 20, 1)); console.log(\'survived\')"', process.execPath, ...procs], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    assert.deepEqual([code, signal, out], [null, 'SIGKILL', ''], 'killed by the kernel before it could hold 512 MiB');
  } finally {
    await groups.tearDown();
  }
});
