// npm run bench:vm — real VMs of the project's test guest, under KVM where usable, else TCG (the
// agent's own choice, kvmUsable: VWS_ACCEL=kvm|tcg overrides it), the baselines included:
// (1) request -> running-with-IP through vws serve and a vws agent, against a bare
//     qemu-system-x86_64 boot of the same guest to its ready marker (it prints it once DHCP gave
//     it its address), the two taking turns in the same run: the ratio is what the service adds;
// (2) suspend (save to a file) and resume (a new process from it) at 128, 256 and 512 MiB, the
//     guest having written a quarter of its memory (vws.fill; more runs the 128 MiB guest out of
//     memory), as an idle guest's untouched pages cost next to nothing; against the disk itself:
//     as many bytes as the state file holds, written (with fsync) to and read back from the
//     directory the state file is in, in the same run;
// (3) live migration between two namespaces over a veth: total time and downtime, same guests.
// Each figure is the median of REPEAT runs; writes bench/results/vm.json.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTestGuest } from '../guest/build.ts';
import { NodeNetwork, tapName } from '../src/agent/network/node-network.ts';
import { sleep } from '../src/agent/network/wait-until.ts';
import { kvmUsable } from '../src/agent/qemu/qemu-argv.ts';
import { bootVm, receiveVm, restoreVm } from '../src/agent/qemu/qemu-vm.ts';
import type { VmProcessConfig } from '../src/agent/vm-runtime.ts';
import { bootGuest, sandbox } from '../test/agent/network/sandbox.ts';
import { guestVmConfig } from '../test/agent/qemu/guest-vm.ts';
import { BOOTSTRAP_TOKEN, freePort, startServer, vws } from '../test/cli/client/real-server.ts';
import { api, type LeaseView, qemuPids, startAgent } from '../test/e2e/qemu-pool.ts';
import { killAllIn, twoNodeFabric } from '../test/support/netns.ts';

const root = new URL('..', import.meta.url).pathname;
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const MEMORY_SIZES = [128, 256, 512];
/** The share of its memory each guest writes before the measurements. */
const FILL = 0.25;
const guest = buildTestGuest();
/** The accelerator the agent gives the service's VMs here; the bare baseline boots under the same. */
const kvm = kvmUsable();

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x: number, places = 3): number => Math.round(x * 10 ** places) / 10 ** places;

/** Boots one VM and times it to running with its address; close() tears everything down. */
interface BootBed {
  boot(i: number): Promise<number>;
  close(): Promise<void>;
}

/** Bare qemu-system-x86_64 in a namespace of its own, to the guest's ready marker. */
async function bareBed(): Promise<BootBed> {
  const box = sandbox('benchbare');
  try {
    const net = await NodeNetwork.open({ netns: box.netns, bridge: 'vwsbr0', gateway: '10.77.0.1', prefix: 24, dir: join(box.dir, 'net') });
    return {
      async boot(i) {
        const mac = `52:54:00:78:00:${(10 + i).toString(16).padStart(2, '0')}`;
        await net.addTap(tapName(`bare-${i}`));
        await net.setHost(mac, `10.77.0.${10 + i}`);
        const started = performance.now();
        const g = bootGuest(box, `bare-${i}`, tapName(`bare-${i}`), mac, { kvm });
        await g.waitForSerial(/VWS-GUEST-READY ip=\S+/, 180_000).catch((e: Error) => {
          // The probe only has QEMU set a KVM machine up; a nested host can pass it and still hang the guest's kernel.
          throw kvm ? new Error(`${e.message}\nThe guest did not boot under KVM, which the agent would choose here too: run with VWS_ACCEL=tcg`, { cause: e }) : e;
        });
        const ms = performance.now() - started;
        await g.stop();
        return ms;
      },
      close: () => box.cleanup(),
    };
  } catch (e) {
    await box.cleanup();
    throw e;
  }
}

/** vws serve and a vws agent: POST /v1/leases to the workspace running with its IP. */
async function serviceBed(): Promise<BootBed> {
  const dir = mkdtempSync(join(tmpdir(), 'vws-bench-vm-'));
  chmodSync(dir, 0o755);
  const fabric = twoNodeFabric('benchvm');
  const server = await startServer(join(dir, 'service'), await freePort(), ['--driver', 'qemu']);
  const agentDir = join(dir, 'agent');
  mkdirSync(agentDir, { mode: 0o755 });
  const agent = startAgent({ name: 'node-a', server: server.url, token: BOOTSTRAP_TOKEN, data: agentDir, netns: fabric.namespaces[0], migrationAddress: fabric.addresses[0] });
  const close = async (): Promise<void> => {
    await agent.kill();
    await server.kill();
    for (const ns of fabric.namespaces) await killAllIn(ns);
    fabric.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const config = join(dir, 'config.json');
    vws(config, 'login', '--server', `${server.url}/v1`, '--token', BOOTSTRAP_TOKEN);
    for (const [name, file, extra] of [['k', guest.kernel, []], ['i', guest.initrd, []], ['g', guest.disk, ['--kernel', 'k', '--initrd', 'i', '--cmdline', guest.cmdline]]] as const) {
      const r = vws(config, 'image', 'add', name, '--file', file, ...extra);
      if (r.status !== 0) throw new Error(r.stderr);
    }
    const call = api(server.url, BOOTSTRAP_TOKEN);
    while (!(await call.get<{ nodes: unknown[] }>('/v1/nodes')).nodes.length) await sleep(100);
    return {
      async boot() {
        const started = performance.now();
        const { lease } = await call.post<{ lease: LeaseView }>('/v1/leases', { kind: 'best-effort', nodes: 1, cpu: 1, memoryMiB: 128, duration: 3600, image: 'g' });
        for (;;) {
          const l = await call.get<LeaseView>(`/v1/leases/${lease.id}`);
          if (l.workspaces?.[0]?.status === 'running' && l.workspaces[0].ip) break;
          if (['failed', 'rejected'].includes(l.status)) throw new Error(JSON.stringify(l));
          await sleep(20);
        }
        const ms = performance.now() - started;
        // The ratio means something only if the service's VM runs under the baseline's accelerator.
        for (const pid of qemuPids(fabric.namespaces[0])) {
          const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
          // The agent names it with -accel (kvm, or tcg with its translation buffer's size).
          if (!argv.some((a, i) => argv[i - 1] === '-accel' && a.split(',')[0] === (kvm ? 'kvm' : 'tcg'))) throw new Error(`the service's QEMU runs with ${argv.join(' ')}, not under the baseline's ${kvm ? 'kvm' : 'tcg'}`);
        }
        await fetch(`${server.url}/v1/leases/${lease.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${BOOTSTRAP_TOKEN}` } });
        while (qemuPids(fabric.namespaces[0]).length) await sleep(100);
        return ms;
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * Bare boots and the service's take turns, so that on a shared machine both meet the same load:
 * run one after the other, a neighbour's burst could fall on one side only. The service's first
 * boot, which fetches the images into the node's cache, is set apart.
 */
async function boots(): Promise<{ bare: number[]; coldMs: number; warmMs: number[] }> {
  const bareSide = await bareBed();
  try {
    const serviceSide = await serviceBed();
    try {
      const coldMs = await serviceSide.boot(0);
      const bare: number[] = [];
      const warmMs: number[] = [];
      for (let i = 0; i < REPEAT; i++) {
        bare.push(await bareSide.boot(i));
        warmMs.push(await serviceSide.boot(i + 1));
      }
      return { bare, coldMs, warmMs };
    } finally {
      await serviceSide.close();
    }
  } finally {
    await bareSide.close();
  }
}

/** A test-guest VM that writes FILL of its memory before it reports ready. */
const vmConfig = (net: NodeNetwork, netns: string, dir: string, name: string, memoryMiB: number, mac: string, ip: string): Promise<VmProcessConfig> =>
  guestVmConfig(net, netns, { dir, name, memoryMiB, mac, ip, cmdline: `vws.fill=${Math.round(memoryMiB * FILL)}` });

/** Waits for the guest's ready marker, checking it wrote the memory it was asked to. */
async function waitReady(config: VmProcessConfig): Promise<void> {
  const serial = join(config.dir, 'serial.log');
  const wanted = Math.round(config.memoryMiB * FILL);
  for (let i = 0; i < 3000; i++) {
    const text = existsSync(serial) ? readFileSync(serial, 'utf8') : '';
    if (text.includes('VWS-GUEST-READY')) {
      if (!text.includes(`vws-guest: filled ${wanted} MiB`)) throw new Error(`the guest did not fill ${wanted} MiB: ${text}`);
      return;
    }
    await sleep(100);
  }
  throw new Error(`no ready marker in ${serial}`);
}

const CHUNK = randomBytes(4 * 2 ** 20);

/**
 * The disk's own pace for a state file of `bytes`: as many bytes written to `file` and flushed
 * (fsync) to the disk, then read back. Like the state file when a resume reads it, the file has
 * just been written: both reads find what the page cache kept.
 */
function rawDisk(file: string, bytes: number): { writeMs: number; readMs: number } {
  const startedWrite = performance.now();
  const out = openSync(file, 'w');
  try {
    for (let done = 0; done < bytes; done += CHUNK.length) writeSync(out, CHUNK, 0, Math.min(CHUNK.length, bytes - done));
    fsyncSync(out);
  } finally {
    closeSync(out);
  }
  const writeMs = performance.now() - startedWrite;
  const startedRead = performance.now();
  const into = Buffer.allocUnsafe(CHUNK.length);
  const input = openSync(file, 'r');
  try {
    while (readSync(input, into, 0, into.length, null) > 0);
  } finally {
    closeSync(input);
  }
  const readMs = performance.now() - startedRead;
  rmSync(file);
  return { writeMs, readMs };
}

interface SuspendResumeRow {
  memoryMiB: number; writtenMiB: number; suspendMs: number; resumeMs: number; stateMiB: number;
  rawWriteMs: number; rawReadMs: number; suspendOverRawWrite: number; resumeOverRawRead: number;
}

async function suspendResume(): Promise<SuspendResumeRow[]> {
  const box = sandbox('benchsr');
  try {
    const net = await NodeNetwork.open({ netns: box.netns, bridge: 'vwsbr0', gateway: '10.77.0.1', prefix: 24, dir: join(box.dir, 'net') });
    const rows = [];
    let n = 0;
    for (const memoryMiB of MEMORY_SIZES) {
      const suspend: number[] = [];
      const resume: number[] = [];
      const bytes: number[] = [];
      const rawWrite: number[] = [];
      const rawRead: number[] = [];
      for (let i = 0; i < REPEAT; i++) {
        n++;
        const config = await vmConfig(net, box.netns, box.dir, `sr${n}`, memoryMiB, `52:54:00:79:00:${n.toString(16).padStart(2, '0')}`, `10.77.0.${10 + n}`);
        const vm = await bootVm(config);
        await waitReady(config);
        const file = join(config.dir, 'memory.state');
        const saved = await vm.saveTo(file);
        const restored = await restoreVm(config, file);
        suspend.push(saved.ms);
        resume.push(restored.ms);
        bytes.push(saved.bytes);
        await restored.vm.stop(false);
        // Once no VM runs, on the same disk as the state file, in the same run.
        const raw = rawDisk(join(config.dir, 'raw-disk.bench'), saved.bytes);
        rawWrite.push(raw.writeMs);
        rawRead.push(raw.readMs);
      }
      const row = {
        memoryMiB, writtenMiB: Math.round(memoryMiB * FILL), suspendMs: median(suspend), resumeMs: median(resume), stateMiB: round(median(bytes) / 2 ** 20, 1),
        rawWriteMs: median(rawWrite), rawReadMs: median(rawRead), suspendOverRawWrite: round(median(suspend) / median(rawWrite)), resumeOverRawRead: round(median(resume) / median(rawRead)),
      };
      rows.push(row);
      console.log(`suspend/resume ${memoryMiB} MiB: suspend ${Math.round(row.suspendMs)} ms (x${row.suspendOverRawWrite} writing ${row.stateMiB} MiB with fsync: ${Math.round(row.rawWriteMs)} ms), ` +
        `resume ${Math.round(row.resumeMs)} ms (x${row.resumeOverRawRead} reading it back: ${Math.round(row.rawReadMs)} ms), state file ${row.stateMiB} MiB`);
    }
    return rows;
  } finally {
    await box.cleanup();
  }
}

async function liveMigrations(): Promise<Array<{ memoryMiB: number; writtenMiB: number; totalMs: number; downtimeMs: number; withDisksMs: number }>> {
  const fabric = twoNodeFabric('benchlm');
  const dir = mkdtempSync(join(tmpdir(), 'vws-bench-lm-'));
  chmodSync(dir, 0o755);
  try {
    const nets = await Promise.all(fabric.namespaces.map((netns, i) => NodeNetwork.open({ netns, bridge: 'vwsbr0', gateway: `10.77.0.${254 - i}`, prefix: 24, dir: join(dir, `net${i}`) })));
    const rows = [];
    let n = 0;
    for (const memoryMiB of MEMORY_SIZES) {
      const total: number[] = [];
      const down: number[] = [];
      const wall: number[] = [];
      for (let i = 0; i < REPEAT; i++) {
        n++;
        const mac = `52:54:00:7a:00:${n.toString(16).padStart(2, '0')}`;
        const ip = `10.77.0.${10 + n}`;
        const src = await vmConfig(nets[0], fabric.namespaces[0], join(dir, 'a'), `lm${n}`, memoryMiB, mac, ip);
        const vm = await bootVm(src);
        await waitReady(src);
        const dst = await vmConfig(nets[1], fabric.namespaces[1], join(dir, 'b'), `lm${n}`, memoryMiB, mac, ip);
        const incoming = await receiveVm(dst, fabric.addresses[1]);
        const started = performance.now();
        const report = await vm.migrateTo({ address: fabric.addresses[1], port: incoming.port, diskPort: incoming.diskPort });
        const moved = await incoming.finish();
        // QEMU's total time starts with the memory; the disk mirrors come before it.
        wall.push(performance.now() - started);
        total.push(report.totalMs);
        down.push(report.downtimeMs);
        await moved.stop(false);
      }
      rows.push({ memoryMiB, writtenMiB: Math.round(memoryMiB * FILL), totalMs: median(total), downtimeMs: median(down), withDisksMs: Math.round(median(wall)) });
      console.log(`live migration ${memoryMiB} MiB: total ${median(total)} ms, downtime ${median(down)} ms; ${Math.round(median(wall))} ms with the disk mirrors`);
    }
    return rows;
  } finally {
    for (const ns of fabric.namespaces) await killAllIn(ns);
    fabric.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

const accelerator = kvm ? 'kvm' : 'tcg';
console.log(`bench:vm on ${accelerator}, median of ${REPEAT}`);
const { bare, ...service } = await boots();
console.log(`bare qemu boot to ready marker: ${Math.round(median(bare))} ms (${bare.map(Math.round).join(', ')})`);
const ratio = round(median(service.warmMs) / median(bare));
console.log(`vws request -> running with IP: ${Math.round(median(service.warmMs))} ms warm (${service.warmMs.map(Math.round).join(', ')}), ${Math.round(service.coldMs)} ms with images fetched; x${ratio} the bare boot`);
const suspendResumeRows = await suspendResume();
const live = await liveMigrations();

const qemu = execFileSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }).split('\n')[0];
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/vm.json'), `${JSON.stringify({
  qemu, accelerator, repeat: REPEAT, guest: { kernel: guest.kernelVersion, memoryMiB: 128 },
  boot: { bareMs: round(median(bare), 0), bareRunsMs: bare.map(Math.round), requestToIpMs: round(median(service.warmMs), 0), requestToIpRunsMs: service.warmMs.map(Math.round), coldRequestToIpMs: Math.round(service.coldMs), overBare: ratio },
  suspendResume: suspendResumeRows.map((r) => ({ ...r, suspendMs: Math.round(r.suspendMs), resumeMs: Math.round(r.resumeMs), rawWriteMs: Math.round(r.rawWriteMs), rawReadMs: Math.round(r.rawReadMs) })),
  liveMigration: live,
}, null, 2)}\n`);
console.log('wrote bench/results/vm.json');
