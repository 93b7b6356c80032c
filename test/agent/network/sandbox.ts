// A network namespace and a state dir of a test's own, and the real test guest booted on a tap in
// it. Cleanup kills whatever still runs in the namespace (QEMU, dnsmasq) before deleting it, since
// deleting a namespace does not stop its processes, and it runs even when the test failed.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTestGuest, READY_MARKER, type TestGuest } from '../../../guest/build.ts';
import { waitUntil } from '../../../src/agent/network/wait-until.ts';
import { httpGetIn, killAllIn } from '../../support/netns.ts';

export interface Sandbox {
  netns: string;
  dir: string;
  /** Runs a command inside the namespace and returns its stdout. */
  sh(program: string, args: string[]): string;
  cleanup(): Promise<void>;
}

let counter = 0;

export function sandbox(label: string): Sandbox {
  const netns = `vwsnet-${label}-${process.pid}-${counter++}`;
  const dir = mkdtempSync(join(tmpdir(), `vws-${netns}-`));
  // dnsmasq rereads its hosts file as user nobody.
  chmodSync(dir, 0o755);
  execFileSync('ip', ['netns', 'add', netns]);
  // A host has lo up; the agent relies on it to reach its own bridge address.
  execFileSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  const sh = (program: string, args: string[]): string => {
    try {
      return execFileSync('ip', ['netns', 'exec', netns, program, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    } catch (e) {
      throw new Error(`${program} ${args.join(' ')} in ${netns} failed: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`, { cause: e });
    }
  };
  return {
    netns,
    dir,
    sh,
    async cleanup() {
      try {
        await killAllIn(netns);
      } finally {
        execFileSync('ip', ['netns', 'del', netns]);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

let testGuest: TestGuest | undefined;

export interface Guest {
  process: ChildProcess;
  serialLog: string;
  serial(): string;
  /** Waits for a serial console line matching `re` (deadline: a guard against hangs only). */
  waitForSerial(re: RegExp, deadlineMs?: number): Promise<RegExpExecArray>;
  stop(): Promise<void>;
}

/**
 * Boots the test guest under QEMU in the sandbox's namespace, its NIC on `tap` with `mac`; under
 * TCG unless `kvm`; from `initrd` instead of the guest's own when given (see guest-probe.ts).
 */
export function bootGuest(box: Pick<Sandbox, 'netns' | 'dir'>, name: string, tap: string, mac: string, opts: { kvm?: boolean; initrd?: string } = {}): Guest {
  testGuest ??= buildTestGuest();
  const overlay = join(box.dir, `${name}.qcow2`);
  const serialLog = join(box.dir, `${name}.serial`);
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', testGuest.disk, '-F', 'qcow2', overlay]);
  let exited = '';
  const qemu = spawn(
    'ip',
    [
      ...['netns', 'exec', box.netns, 'qemu-system-x86_64'],
      ...['-machine', `q35,accel=${opts.kvm ? 'kvm' : 'tcg'}`, ...(opts.kvm ? ['-cpu', 'host'] : []), '-m', '128', '-smp', '1', '-nographic', '-no-reboot'],
      ...['-kernel', testGuest.kernel, '-initrd', opts.initrd ?? testGuest.initrd, '-append', testGuest.cmdline],
      ...['-drive', `file=${overlay},if=virtio,format=qcow2`],
      ...['-netdev', `tap,id=n0,ifname=${tap},script=no,downscript=no`, '-device', `virtio-net-pci,netdev=n0,mac=${mac},romfile=`],
      ...['-serial', `file:${serialLog}`, '-display', 'none', '-monitor', 'none'],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  qemu.stderr!.on('data', (d) => (stderr += d));
  qemu.on('exit', (code, signal) => (exited = `QEMU ${name} exited (${signal ?? code}): ${stderr.trim()}`));
  const serial = () => (existsSync(serialLog) ? readFileSync(serialLog, 'utf8') : '');
  return {
    process: qemu,
    serialLog,
    serial,
    waitForSerial: (re, deadlineMs = 60_000) =>
      waitUntil(
        () => {
          if (exited) throw new Error(`${exited}; serial: ${serial()}`);
          return re.exec(serial()) ?? undefined;
        },
        deadlineMs,
        () => new Error(`guest ${name} printed nothing matching ${re} in ${deadlineMs} ms; serial: ${serial()}`),
        100,
      ),
    async stop() {
      if (qemu.exitCode !== null || qemu.signalCode !== null) return;
      const gone = new Promise((resolve) => qemu.once('exit', resolve));
      qemu.kill('SIGKILL');
      await gone;
    },
  };
}

/** The body of http://IP/PATH fetched from inside the sandbox's namespace (retried, see httpGetIn). */
export const httpGet = (box: Sandbox, ip: string, path: string): Promise<string> => httpGetIn(box.netns, ip, path);

export { READY_MARKER };
