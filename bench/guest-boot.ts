// npm run bench:guest — the Debian test guest (guest/debian.ts) booting from a vws seed, against
// the busybox test guest (guest/build.ts) in the same run: both bare qemu-system-x86_64 boots with
// the same flags and accelerator (VWS_ACCEL, as the agent chooses), user-mode networking, the
// seed as a read-only cidata drive. The Debian guest is timed from QEMU's start to cloud-init's
// "finished" line on its serial console (its seed powers it off afterwards), the busybox guest to
// its ready marker (printed once DHCP gave it its address). Also the guest build: a cache lookup,
// and with BENCH_COLD=1 a cold build into a fresh cache. Medians of BENCH_REPEAT runs (2), taking
// turns; writes bench/results/guest-boot.json.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDebianGuest, debianCacheDir } from '../guest/debian.ts';
import { buildTestGuest, READY_MARKER } from '../guest/build.ts';
import { sleep } from '../src/agent/network/wait-until.ts';
import { kvmUsable, QEMU_BINARY } from '../src/agent/qemu/qemu-argv.ts';
import { writeSeedVolume } from '../src/agent/seed-volume.ts';
import { buildSeed } from '../src/seed/seed.ts';

const root = new URL('..', import.meta.url).pathname;
const REPEAT = Number(process.env.BENCH_REPEAT ?? 2);
const MEMORY_MIB = 512;
const MAC = '52:54:00:be:00:01';
const kvm = kvmUsable();
/** Only guards against a guest that never gets there. */
const DEADLINE_MS = 15 * 60_000;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
  const t0 = performance.now();
  const value = await fn();
  return [value, Math.round(performance.now() - t0)];
};

/** Boots QEMU and resolves with the ms until `done` matches the serial log, then kills it. */
async function bootUntil(dir: string, args: string[], done: RegExp): Promise<number> {
  const serial = join(dir, 'serial.log');
  rmSync(serial, { force: true });
  const t0 = performance.now();
  const qemu: ChildProcess = spawn(QEMU_BINARY, [
    '-machine', `q35,accel=${kvm ? 'kvm' : 'tcg'}`, ...(kvm ? ['-cpu', 'host'] : ['-cpu', 'qemu64']), '-m', String(MEMORY_MIB),
    '-nodefaults', '-display', 'none', '-serial', `file:${serial}`, '-no-reboot',
    '-nic', `user,model=virtio-net-pci,mac=${MAC}`, ...args,
  ], { stdio: 'ignore' });
  try {
    for (;;) {
      if (existsSync(serial) && done.test(readFileSync(serial, 'utf8'))) return Math.round(performance.now() - t0);
      if (qemu.exitCode !== null) throw new Error(`QEMU ended (${qemu.exitCode}) before ${done}: ${existsSync(serial) ? readFileSync(serial, 'utf8').slice(-2000) : ''}`);
      if (performance.now() - t0 > DEADLINE_MS) throw new Error(`no ${done} in ${DEADLINE_MS} ms`);
      await sleep(100);
    }
  } finally {
    qemu.kill('SIGKILL');
  }
}

const work = mkdtempSync(join(tmpdir(), 'vws-bench-guest-'));
try {
  let coldBuildMs: number | null = null;
  if (process.env.BENCH_COLD === '1') {
    const cache = join(work, 'cold-cache');
    [, coldBuildMs] = await timed(() => buildDebianGuest(cache));
    rmSync(cache, { recursive: true, force: true });
  }
  const [debian, cachedBuildMs] = await timed(() => buildDebianGuest(debianCacheDir()));
  const busybox = buildTestGuest();

  const seedFile = join(work, 'seed.iso');
  await writeSeedVolume(buildSeed({
    workspaceId: 'bench-1/0', hostname: 'bench-0', nics: [{ name: 'public', mac: MAC }],
    sshKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIb2o0mQ5sOqk1w8Zq2n9yR3u4pP0s1b2c3d4e5f6g7h bench'],
    userData: '#cloud-config\npower_state:\n  mode: poweroff\n  delay: now\n',
  }), seedFile);

  const debianRuns: number[] = [];
  const busyboxRuns: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const overlay = join(work, `debian-${i}.qcow2`);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', debian.disk, '-F', 'qcow2', overlay]);
    debianRuns.push(await bootUntil(work, ['-kernel', debian.kernel, '-initrd', debian.initrd, '-append', debian.cmdline,
      '-drive', `file=${overlay},if=virtio,format=qcow2`, '-drive', `file=${seedFile},if=virtio,format=raw,readonly=on`], /Cloud-init v\. \S+ finished/));
    process.stderr.write(`debian run ${i + 1}: ${debianRuns.at(-1)} ms to cloud-init finished\n`);
    busyboxRuns.push(await bootUntil(work, ['-kernel', busybox.kernel, '-initrd', busybox.initrd, '-append', busybox.cmdline,
      '-drive', `file=${seedFile},if=virtio,format=raw,readonly=on`], new RegExp(READY_MARKER)));
    process.stderr.write(`busybox run ${i + 1}: ${busyboxRuns.at(-1)} ms to ready\n`);
  }
  const result = {
    accelerator: kvm ? 'kvm' : 'tcg',
    repeat: REPEAT,
    memoryMiB: MEMORY_MIB,
    build: { coldMs: coldBuildMs, cachedMs: cachedBuildMs },
    debianToCloudInitFinishedMs: median(debianRuns),
    debianRunsMs: debianRuns,
    busyboxToReadyMs: median(busyboxRuns),
    busyboxRunsMs: busyboxRuns,
    debianOverBusybox: Math.round((median(debianRuns) / median(busyboxRuns)) * 100) / 100,
  };
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, 'bench/results/guest-boot.json'), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
