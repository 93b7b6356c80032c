// Builds the Debian test guest: a bookworm root file system made by mmdebstrap from Debian's own
// packages (systemd, cloud-init, the cloud kernel, an NFS client and server, sshd, python3), with
// nothing of vws in it, so that it configures itself from its NoCloud seed as a vendor's image
// would. Booted with -kernel/-initrd (no boot loader). It takes about a minute to build, so it is
// cached under a key of its inputs (release, package list, customisation script), and a lock keeps
// two test files that want it at once from building it twice or reading half of it.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { withLock } from './build-lock.ts';

export interface DebianGuest {
  kernel: string;
  initrd: string;
  /** qcow2 holding the root file system (ext4, the whole disk: no partition table). */
  disk: string;
  cmdline: string;
  release: string;
}

const here = new URL('.', import.meta.url).pathname;
const CUSTOMIZE = join(here, 'debian-customize.sh');
export const DEBIAN_RELEASE = 'bookworm';
/** What the guest is made of; what they depend on comes along. */
export const DEBIAN_PACKAGES = [
  'systemd-sysv', 'udev', 'kmod', 'ifupdown', 'isc-dhcp-client', 'linux-image-cloud-amd64',
  'cloud-init', 'openssh-server', 'nfs-kernel-server', 'nfs-common', 'openssl', 'python3',
];
/** The root file system is the whole of the first virtio disk. */
export const DEBIAN_CMDLINE = 'root=/dev/vda rw console=ttyS0 quiet';
const DISK_SIZE = '1G';

const run = promisify(execFile);

async function sh(cmd: string, args: string[], cwd?: string): Promise<string> {
  try {
    return (await run(cmd, args, { cwd, maxBuffer: 64 << 20 })).stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${err.stderr?.trim().split('\n').slice(-15).join('\n') || err.message}`, { cause: e });
  }
}

export function debianCacheDir(): string {
  return process.env.VWS_DEBIAN_GUEST_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'vws', 'debian-guest');
}

/** The cache key: a change to any input builds a new guest beside the old one. */
export function debianGuestKey(): string {
  return createHash('sha256').update(DEBIAN_RELEASE).update('\0').update(DEBIAN_PACKAGES.join(',')).update('\0')
    .update(readFileSync(CUSTOMIZE)).update('\0').update(DISK_SIZE).digest('hex').slice(0, 16);
}

function need(path: string, pkg: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: install Debian's ${pkg} (apt-get install -y --no-install-recommends ${pkg})`);
}

/** Builds the guest (or finds it built) and returns where its parts are; `timings` hears how long each step took. */
export async function buildDebianGuest(cacheDir = debianCacheDir(), timings?: (step: string, ms: number) => void): Promise<DebianGuest> {
  const dir = join(cacheDir, debianGuestKey());
  const guest: DebianGuest = { kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img'), disk: join(dir, 'root.qcow2'), cmdline: DEBIAN_CMDLINE, release: DEBIAN_RELEASE };
  if (existsSync(join(dir, 'done'))) return guest;
  need('/usr/bin/mmdebstrap', 'mmdebstrap');
  need('/usr/sbin/mke2fs', 'e2fsprogs');
  need('/usr/bin/qemu-img', 'qemu-utils');
  if (process.getuid?.() !== 0) throw new Error('the Debian test guest is built with mmdebstrap --mode=root, which needs root: run the tests as root');
  mkdirSync(cacheDir, { recursive: true });
  return withLock(`${dir}.lock`, async () => {
    // Another builder may have finished while this one waited for the lock.
    if (existsSync(join(dir, 'done'))) return guest;
    const work = mkdtempSync(join(cacheDir, '.build-'));
    const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      const t0 = Date.now();
      const value = await fn();
      timings?.(name, Date.now() - t0);
      return value;
    };
    try {
      const tree = join(work, 'root');
      // Under nice: the build competes with the tests and helpers that share the machine's cores.
      await step('mmdebstrap', () => sh('nice', ['-n', '10', 'mmdebstrap', '--mode=root', '--variant=minbase', '--quiet',
        `--include=${DEBIAN_PACKAGES.join(',')}`,
        ...['man', 'doc', 'info', 'locale'].map((d) => `--dpkgopt=path-exclude=/usr/share/${d}/*`),
        `--customize-hook='${CUSTOMIZE}' "$1"`,
        DEBIAN_RELEASE, tree]));
      const out = join(work, 'out');
      mkdirSync(out);
      const boot = readdirSync(join(tree, 'boot'));
      const kernel = boot.find((f) => f.startsWith('vmlinuz-'));
      const initrd = boot.find((f) => f.startsWith('initrd.img-'));
      if (!kernel || !initrd) throw new Error(`mmdebstrap left no kernel and initrd in ${tree}/boot (found: ${boot.join(', ')})`);
      copyFileSync(join(tree, 'boot', kernel), join(out, 'vmlinuz'));
      copyFileSync(join(tree, 'boot', initrd), join(out, 'initrd.img'));
      const raw = join(work, 'root.raw');
      await step('mke2fs', () => sh('nice', ['-n', '10', 'mke2fs', '-q', '-t', 'ext4', '-L', 'root', '-d', tree, '-F', raw, DISK_SIZE]));
      await step('qemu-img', () => sh('nice', ['-n', '10', 'qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', raw, join(out, 'root.qcow2')]));
      writeFileSync(join(out, 'done'), `${JSON.stringify({ release: DEBIAN_RELEASE, kernel, packages: DEBIAN_PACKAGES })}\n`);
      rmSync(dir, { recursive: true, force: true });
      renameSync(out, dir);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    return guest;
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const t0 = Date.now();
  const guest = await buildDebianGuest(debianCacheDir(), (step, ms) => process.stderr.write(`${step}: ${(ms / 1000).toFixed(1)} s\n`));
  process.stderr.write(`total: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  process.stdout.write(`${JSON.stringify(guest, null, 2)}\n`);
}
