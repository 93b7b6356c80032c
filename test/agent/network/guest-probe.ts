// Makes the busybox test guest run a script of the test's once it has its address, without
// changing the guest itself: the kernel unpacks concatenated initramfs archives in order, later
// files replacing earlier ones, so a small second archive can replace /etc/udhcpc.script with one
// that also starts the probe. The probe reports on the serial console, one `VWS-PROBE` line each.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildTestGuest } from '../../../guest/build.ts';

const here = new URL('.', import.meta.url).pathname;
export const PROBE_LINE = /VWS-PROBE (\S+) (\S+)/g;

/** An initrd for the test guest that runs `script` (busybox sh) once, after its first DHCP lease. */
export function probeInitrd(script: string, out: string): string {
  const guest = buildTestGuest();
  const original = readFileSync(join(here, '../../../guest/udhcpc.script'), 'utf8');
  const hook = '    [ -e /tmp/probed ] || { touch /tmp/probed; sh /etc/vws-probe.sh > /dev/console 2>&1 & }\n    ;;\nesac';
  if (!original.includes('    ;;\nesac')) throw new Error('guest/udhcpc.script changed shape: update guest-probe.ts');
  const work = mkdtempSync(join(tmpdir(), 'vws-probe-'));
  try {
    mkdirSync(join(work, 'etc'));
    writeFileSync(join(work, 'etc/udhcpc.script'), original.replace('    ;;\nesac', hook), { mode: 0o755 });
    writeFileSync(join(work, 'etc/vws-probe.sh'), script, { mode: 0o755 });
    const cpio = execFileSync('busybox', ['cpio', '-o', '-H', 'newc'], { cwd: work, input: 'etc\netc/udhcpc.script\netc/vws-probe.sh\n', stdio: ['pipe', 'pipe', 'pipe'] });
    writeFileSync(out, Buffer.concat([readFileSync(guest.initrd), gzipSync(cpio)]));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return out;
}

/** The probe's reports so far: name -> result. */
export function probeResults(serial: string): Map<string, string> {
  return new Map([...serial.matchAll(PROBE_LINE)].map((m) => [m[1], m[2]]));
}

/** A shell function for probe scripts: `reach NAME IP [SOURCE]` prints whether IP answers ping. */
export const REACH = `reach() { if ping -c 3 -w 6 \${3:+-I "$3"} "$2" >/dev/null 2>&1; then echo "VWS-PROBE $1 reached"; else echo "VWS-PROBE $1 unreachable"; fi; }\n`;

/**
 * `await NAME IP`: waits for IP to answer (another guest may still be booting), up to about a
 * minute, then reports like reach. Used for what must be reachable, before probing what must not.
 */
export const AWAIT = `await() { i=0; while [ $i -lt 30 ]; do ping -c 1 -w 2 "$2" >/dev/null 2>&1 && { echo "VWS-PROBE $1 reached"; return; }; i=$((i + 1)); done; echo "VWS-PROBE $1 unreachable"; }\n`;
