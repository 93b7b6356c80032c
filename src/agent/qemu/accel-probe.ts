// Which accelerator the agent's VMs run under. An openable /dev/kvm, or even QEMU setting up a
// KVM machine, is not enough: on some nested or restricted hosts the vCPU never runs guest code
// and every guest hangs silently. So the probe boots a one-instruction guest and waits for it to
// report back through QEMU's isa-debug-exit device.

import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const QEMU_BINARY = process.env.VWS_QEMU ?? 'qemu-system-x86_64';

export type Accel = 'kvm' | 'tcg';

export interface AccelChoice {
  kvm: boolean;
  /** Why, in words an operator reads in the agent's log. */
  reason: string;
}

/** What the probe guest writes to the debug-exit port; QEMU then exits with (value << 1) | 1. */
const PROBE_VALUE = 0x31;
export const PROBE_EXIT_STATUS = (PROBE_VALUE << 1) | 1;
const DEBUG_EXIT_PORT = 0xf4;
/** A guest that runs at all reaches its `out` in microseconds; QEMU's own start-up is the wait,
 *  and on a loaded CI host that start-up alone took over 4 s. Waiting too little only costs speed
 *  (a working KVM is taken for a hanging one and TCG is used), so the wait is generous. */
export const PROBE_TIMEOUT_MS = Number(process.env.VWS_ACCEL_PROBE_TIMEOUT_MS ?? 15_000);

/** A BIOS boot sector: `mov al, PROBE_VALUE; out DEBUG_EXIT_PORT, al; hlt`, signed 0x55AA. */
function bootSector(): Buffer {
  const sector = Buffer.alloc(512);
  Buffer.from([0xb0, PROBE_VALUE, 0xe6, DEBUG_EXIT_PORT, 0xf4]).copy(sector);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

export interface ProbeResult {
  /** QEMU's exit status; PROBE_EXIT_STATUS when the guest ran. null when it was killed. */
  status: number | null;
  detail: string;
}

/** Boots the probe guest under `accel` and reports how QEMU ended. */
export function probeGuest(accel: Accel, timeoutMs = PROBE_TIMEOUT_MS): ProbeResult {
  const dir = mkdtempSync(join(tmpdir(), 'vws-accel-probe-'));
  try {
    const image = join(dir, 'probe.img');
    writeFileSync(image, bootSector());
    const probe = spawnSync(QEMU_BINARY, [
      ...['-accel', accel, ...(accel === 'kvm' ? ['-cpu', 'host'] : [])],
      ...['-m', '16', '-nographic', '-no-reboot', '-nodefaults', '-no-user-config'],
      ...['-device', `isa-debug-exit,iobase=0x${DEBUG_EXIT_PORT.toString(16)},iosize=0x04`],
      ...['-drive', `file=${image},format=raw,if=ide`],
    ], { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    const stderr = (probe.stderr ?? '').trim().split('\n').slice(-3).join(' | ');
    if (probe.error && (probe.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
      return { status: null, detail: `a probe guest under ${accel} ran no code in ${timeoutMs} ms (the vCPU hangs)` };
    }
    if (probe.error) return { status: null, detail: `cannot run ${QEMU_BINARY}: ${probe.error.message}` };
    if (probe.status === PROBE_EXIT_STATUS) return { status: probe.status, detail: `a probe guest ran under ${accel}` };
    return { status: probe.status, detail: `a probe guest under ${accel} ended with status ${probe.status ?? probe.signal}${stderr ? `: ${stderr}` : ''}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let verdict: AccelChoice | undefined;

/** The agent's choice, probed once per process. VWS_ACCEL=kvm|tcg overrides the probe. */
export function accelChoice(): AccelChoice {
  const forced = process.env.VWS_ACCEL;
  if (forced) return { kvm: forced === 'kvm', reason: `VWS_ACCEL=${forced}` };
  return (verdict ??= probeKvm());
}

function probeKvm(): AccelChoice {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch (e) {
    return { kvm: false, reason: `/dev/kvm cannot be opened read-write (${(e as Error).message})` };
  }
  return choiceFromProbe(probeGuest('kvm'));
}

/** KVM exactly when the probe guest reported back under it; the probe's own words are the reason. */
export function choiceFromProbe(probe: ProbeResult): AccelChoice {
  return { kvm: probe.status === PROBE_EXIT_STATUS, reason: probe.detail };
}
