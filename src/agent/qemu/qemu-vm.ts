// One VM's QEMU process, driven over QMP. QEMU daemonizes, so the process is not the agent's
// child: an agent that dies leaves it running, and the next one finds it again from the pidfile
// and the QMP socket in the VM's directory.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { IncomingVm, VmProcess, VmProcessConfig } from '../vm-runtime.ts';
import { isRunning } from '../network/processes.ts';
import { sleep, waitUntil } from '../network/wait-until.ts';
import { abandonMirrors, completeMirrors, diskDevices, exportDisks, mirrorDisks, stopExport } from './disk-mirror.ts';
import { type Incoming, QEMU_BINARY, qemuCommand, vmFiles } from './qemu-argv.ts';
import { Qmp, type QmpEvent } from './qmp.ts';

export const POWERDOWN_TIMEOUT_MS = Number(process.env.VWS_POWERDOWN_TIMEOUT_MS ?? 30_000);
/** Bytes/s. QEMU throttles migration to 32 MiB/s by default; a save to a local file needs no throttle. */
const UNTHROTTLED = 100 * 2 ** 30;
/** How long a live migration may stop the guest for its last pass (QEMU's default is 300 ms). */
const DOWNTIME_LIMIT_MS = 300;
const POLL_MS = 10;
const EXIT_DEADLINE_MS = 15_000;

type MigrationInfo = { status?: string; 'error-desc'?: string; 'total-time'?: number; downtime?: number; 'socket-address'?: Array<{ type: string; host?: string; port?: string }> };

const quote = (path: string): string => `'${path.replace(/'/g, `'\\''`)}'`;

/** Starts QEMU and resolves once it has daemonized and answers on QMP; rejects with its stderr if it did not start. */
async function launch(config: VmProcessConfig, incoming: Incoming): Promise<QemuVm> {
  const files = vmFiles(config.dir);
  rmSync(files.qmp, { force: true });
  rmSync(files.pidfile, { force: true });
  const { program, args } = qemuCommand(config, incoming);
  const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', (e) => reject(new Error(`cannot run ${program}: ${e.message}`)));
    child.once('close', (c) => resolve(c));
  });
  if (code !== 0) throw new Error(`${QEMU_BINARY} exited with code ${code}: ${stderr.trim() || 'no message'}`);
  const pid = Number(readFileSync(files.pidfile, 'utf8').trim());
  return new QemuVm(pid, await Qmp.connect(files.qmp), config.dir);
}

export async function bootVm(config: VmProcessConfig): Promise<QemuVm> {
  return launch(config, 'none');
}

/** A new process that loads the state `file` holds and continues the guest where it stopped. */
export async function restoreVm(config: VmProcessConfig, file: string): Promise<{ vm: QemuVm; ms: number }> {
  if (!existsSync(file)) throw new Error(`no saved state at ${file}`);
  const started = Date.now();
  const vm = await launch(config, 'defer');
  try {
    await vm.qmp.execute('migrate-incoming', { uri: `exec:cat ${quote(file)}` });
    await vm.whenIncomingDone();
    return { vm, ms: Date.now() - started };
  } catch (e) {
    await vm.kill();
    throw e;
  }
}

export interface IncomingQemuVm extends IncomingVm {
  finish(): Promise<QemuVm>;
}

/** A process listening on `address` for a live migration; the port is the one the kernel chose. */
export async function receiveVm(config: VmProcessConfig, address: string): Promise<IncomingQemuVm> {
  const vm = await launch(config, 'defer');
  try {
    const diskPort = await exportDisks(vm.qmp, address);
    await vm.qmp.execute('migrate-incoming', { uri: `tcp:${address}:0` });
    const info = await vm.qmp.execute<MigrationInfo>('query-migrate');
    const port = Number(info['socket-address']?.find((a) => a.type === 'inet')?.port);
    if (!(port > 0)) throw new Error(`QEMU did not say which port it listens on for the migration: ${JSON.stringify(info)}`);
    return {
      port,
      ...(diskPort === undefined ? {} : { diskPort }),
      finish: async () => {
        await vm.whenIncomingDone();
        await stopExport(vm.qmp);
        return vm;
      },
      abort: () => vm.kill(),
    };
  } catch (e) {
    await vm.kill();
    throw e;
  }
}

/** The VM whose process still runs from `dir`; a process there that no longer answers QMP is killed. */
export async function adoptVm(dir: string): Promise<QemuVm | null> {
  const files = vmFiles(dir);
  if (!existsSync(files.pidfile)) return null;
  const pid = Number(readFileSync(files.pidfile, 'utf8').trim());
  if (!(pid > 0) || !isRunning(pid) || !commandLineOf(pid).includes(files.qmp)) return null;
  let qmp: Qmp;
  try {
    qmp = await Qmp.connect(files.qmp, 5_000);
  } catch {
    process.kill(pid, 'SIGKILL');
    return null;
  }
  const vm = new QemuVm(pid, qmp, dir);
  // An agent that died between `stop` and the end of a save leaves the guest paused.
  await vm.continueIfStopped();
  return vm;
}

function commandLineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

export class QemuVm implements VmProcess {
  private readonly exitListeners: Array<(detail: string) => void> = [];
  /** Set when the agent itself ends the process (stop, save, migration, release): no exit report then. */
  private ending = false;
  private lastShutdown: QmpEvent | null = null;

  constructor(readonly pid: number, readonly qmp: Qmp, private readonly dir: string) {
    qmp.onEvent((e) => {
      if (e.event === 'SHUTDOWN') this.lastShutdown = e;
    });
    qmp.onClose(() => {
      if (this.ending) return;
      void this.exited().then((detail) => {
        for (const l of this.exitListeners) l(detail);
      });
    });
  }

  onExit(listener: (detail: string) => void): void {
    this.exitListeners.push(listener);
  }

  async stop(graceful: boolean): Promise<void> {
    this.ending = true;
    if (graceful && !this.qmp.isClosed) {
      await this.qmp.execute('system_powerdown').catch(() => undefined);
      const off = await Promise.race([this.qmp.closedPromise().then(() => true), sleep(POWERDOWN_TIMEOUT_MS).then(() => false)]);
      if (off) return this.gone();
    }
    await this.kill();
  }

  async saveTo(file: string): Promise<{ ms: number; bytes: number }> {
    const started = Date.now();
    this.ending = true;
    try {
      await this.qmp.execute('migrate-set-parameters', { 'max-bandwidth': UNTHROTTLED });
      // Stopped first: the state written is one instant of the guest, in one pass.
      await this.qmp.execute('stop');
      await this.qmp.execute('migrate', { uri: `exec:cat > ${quote(file)}` });
      await this.migrationDone('saving the VM state');
    } catch (e) {
      this.ending = false;
      await this.qmp.execute('cont').catch(() => undefined);
      rmSync(file, { force: true });
      throw e;
    }
    await this.kill();
    return { ms: Date.now() - started, bytes: statSync(file).size };
  }

  async migrateTo(to: { address: string; port: number; diskPort?: number }): Promise<{ totalMs: number; downtimeMs: number }> {
    this.ending = true;
    let info: MigrationInfo;
    let mirrors: string[] = [];
    try {
      await this.qmp.execute('migrate-set-parameters', { 'max-bandwidth': UNTHROTTLED, 'downtime-limit': DOWNTIME_LIMIT_MS });
      if ((await diskDevices(this.qmp)).length > 0) {
        if (to.diskPort === undefined) throw new Error(`the destination ${to.address} exports no disks to mirror this VM's disks into`);
        mirrors = await mirrorDisks(this.qmp, to.address, to.diskPort);
        // The guest's last writes must reach the destination's disks before its guest runs: the
        // migration waits, guest stopped, while the mirrors finish.
        await this.qmp.execute('migrate-set-capabilities', { capabilities: [{ capability: 'pause-before-switchover', state: true }] });
      }
      await this.qmp.execute('migrate', { uri: `tcp:${to.address}:${to.port}` });
      info = await this.migrationDone(`migrating to ${to.address}:${to.port}`, async () => {
        await completeMirrors(this.qmp, mirrors);
        await this.qmp.execute('migrate-continue', { state: 'pre-switchover' });
      });
    } catch (e) {
      this.ending = false;
      await abandonMirrors(this.qmp, mirrors);
      // A failed migration leaves the source running (or paused at the very end): it keeps the guest.
      await this.continueIfStopped().catch(() => undefined);
      throw e;
    }
    await this.kill();
    return { totalMs: info['total-time'] ?? 0, downtimeMs: info.downtime ?? 0 };
  }

  async release(): Promise<void> {
    this.ending = true;
    this.qmp.close();
  }

  /** Ends the process at once: QMP quit, and SIGKILL if that is not enough. */
  async kill(): Promise<void> {
    this.ending = true;
    if (!this.qmp.isClosed) await this.qmp.execute('quit').catch(() => undefined);
    try {
      await waitUntil(() => !isRunning(this.pid), 3_000, () => new Error('still running'));
    } catch {
      if (isRunning(this.pid)) process.kill(this.pid, 'SIGKILL');
    }
    await this.gone();
  }

  /** Lets a guest stopped for a save or a migration that did not finish run on. */
  async continueIfStopped(): Promise<void> {
    const { status } = await this.qmp.execute<{ status: string }>('query-status');
    if (status === 'paused' || status === 'postmigrate') await this.qmp.execute('cont');
  }

  /** Resolves once an incoming migration (from a file or a peer) has loaded, with the guest running. */
  async whenIncomingDone(deadlineMs = 600_000): Promise<void> {
    const end = Date.now() + deadlineMs;
    for (;;) {
      const { status } = await this.qmp.execute<{ status: string }>('query-status');
      if (status !== 'inmigrate') {
        if (status !== 'running') await this.qmp.execute('cont');
        return;
      }
      if (Date.now() > end) throw new Error(`the incoming migration did not finish in ${deadlineMs} ms`);
      await sleep(POLL_MS);
    }
  }

  private async migrationDone(what: string, atSwitchover?: () => Promise<void>): Promise<MigrationInfo> {
    for (;;) {
      const info = await this.qmp.execute<MigrationInfo>('query-migrate');
      if (info.status === 'completed') return info;
      if (info.status === 'failed' || info.status === 'cancelled') throw new Error(`${what} failed: ${info['error-desc'] ?? info.status}`);
      if (info.status === 'pre-switchover' && atSwitchover) {
        await atSwitchover();
        atSwitchover = undefined;
      }
      await sleep(POLL_MS);
    }
  }

  private async gone(): Promise<void> {
    await waitUntil(() => !isRunning(this.pid), EXIT_DEADLINE_MS, () => new Error(`QEMU ${this.pid} did not exit`));
    rmSync(vmFiles(this.dir).qmp, { force: true });
    rmSync(vmFiles(this.dir).pidfile, { force: true });
  }

  /** Why the process ended, as far as QMP and the serial console tell. */
  private async exited(): Promise<string> {
    await waitUntil(() => !isRunning(this.pid), EXIT_DEADLINE_MS, () => new Error('not yet')).catch(() => undefined);
    // QMP says why as a string ('guest-shutdown', 'host-signal', ...); anything else is shown as sent.
    const said = this.lastShutdown?.data?.reason;
    const reason = said === undefined || typeof said === 'string' ? said : JSON.stringify(said);
    if (this.lastShutdown?.data?.guest === true) return `the guest powered off (${reason})`;
    if (reason) return `QEMU shut down (${reason})`;
    const serial = vmFiles(this.dir).serial;
    const tail = existsSync(serial) ? readFileSync(serial, 'utf8').trim().split('\n').slice(-5).join(' | ') : '';
    return `QEMU exited unexpectedly${tail ? `; last console lines: ${tail}` : ''}`;
  }
}
