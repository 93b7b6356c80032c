// Disks in a live migration: the destination exports its own fresh overlays (over its own copy of
// the same base) over NBD, and the source mirrors into them only what the guest wrote (sync top),
// so a disk never travels whole. QEMU's older block migration did this inside the migration
// stream, but it was deprecated in 8.1 and removed in 9.1; NBD and drive-mirror work from 1.3 on.

import { sleep } from '../network/wait-until.ts';
import type { Qmp } from './qmp.ts';
import { SEED_DRIVE } from './qemu-argv.ts';
import { QmpError } from './qmp.ts';

const POLL_MS = 10;
/** Ports tried for the NBD server: QEMU cannot say which one it took for port 0. */
const NBD_PORTS = { low: 20_000, span: 40_000, tries: 20 };

type BlockDevice = { device: string; inserted?: unknown };
type BlockJob = { device: string; ready: boolean; offset: number; len: number };

export async function diskDevices(qmp: Qmp): Promise<string[]> {
  const devices = await qmp.execute<BlockDevice[]>('query-block');
  // The seed is read-only and the same on both sides: the receiver made its own from the workload.
  return devices.filter((d) => d.inserted && d.device !== SEED_DRIVE).map((d) => d.device);
}

/** Destination: serves every disk over NBD on `address`; the port, or undefined for a VM without disks. */
export async function exportDisks(qmp: Qmp, address: string): Promise<number | undefined> {
  const devices = await diskDevices(qmp);
  if (devices.length === 0) return undefined;
  const port = await startNbdServer(qmp, address);
  for (const device of devices) await qmp.execute('nbd-server-add', { device, writable: true });
  return port;
}

async function startNbdServer(qmp: Qmp, address: string): Promise<number> {
  let last: unknown;
  for (let i = 0; i < NBD_PORTS.tries; i++) {
    const port = NBD_PORTS.low + Math.floor(Math.random() * NBD_PORTS.span);
    try {
      await qmp.execute('nbd-server-start', { addr: { type: 'inet', data: { host: address, port: String(port) } } });
      return port;
    } catch (e) {
      last = e;
      if (!(e instanceof QmpError) || !/in use|bind/i.test(e.message)) throw e;
    }
  }
  throw new Error(`no free port for the disks' NBD server on ${address} after ${NBD_PORTS.tries} tries: ${(last as Error).message}`);
}

export async function stopExport(qmp: Qmp): Promise<void> {
  await qmp.execute('nbd-server-stop').catch(() => undefined);
}

/** Source: mirrors each disk's own writes into the destination's export; resolves once all are in step. */
export async function mirrorDisks(qmp: Qmp, address: string, port: number): Promise<string[]> {
  const devices = await diskDevices(qmp);
  for (const device of devices) {
    await qmp.execute('drive-mirror', {
      'job-id': `mirror-${device}`, device, target: `nbd:${address}:${port}:exportname=${device}`,
      format: 'raw', sync: 'top', mode: 'existing',
    });
  }
  const jobs = devices.map((d) => `mirror-${d}`);
  for (;;) {
    const running = await qmp.execute<BlockJob[]>('query-block-jobs');
    const mine = running.filter((j) => jobs.includes(j.device));
    if (mine.length < jobs.length) throw new Error(`a disk mirror ended before it was in step: ${jobs.filter((j) => !mine.some((m) => m.device === j)).join(', ')}`);
    if (mine.every((j) => j.ready)) return jobs;
    await sleep(POLL_MS);
  }
}

/**
 * Source, with the guest stopped for the switchover: ends the mirrors, which first write what is
 * still dirty, so the destination's disks are whole before its guest runs.
 */
export async function completeMirrors(qmp: Qmp, jobs: string[]): Promise<void> {
  for (const job of jobs) await qmp.execute('block-job-cancel', { device: job });
  for (;;) {
    const running = await qmp.execute<BlockJob[]>('query-block-jobs');
    if (!running.some((j) => jobs.includes(j.device))) return;
    await sleep(POLL_MS);
  }
}

/** Source, when the migration failed: the mirrors stop and the source's disks stay as they are. */
export async function abandonMirrors(qmp: Qmp, jobs: string[]): Promise<void> {
  for (const job of jobs) await qmp.execute('block-job-cancel', { device: job, force: true }).catch(() => undefined);
}
