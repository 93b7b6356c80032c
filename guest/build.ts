// Builds the vws test guest from Debian packages: the distribution's cloud kernel, an initramfs of
// busybox-static with the virtio modules and ./init, and a small ext4 image disk. Nothing can be
// downloaded here but Debian packages, so this is the guest every QEMU test and bench boots.
// Artifacts are cached under a key of their inputs, so a second run costs nothing.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface TestGuest {
  kernel: string;
  initrd: string;
  /** qcow2 with an ext4 filesystem holding `vws-image`. */
  disk: string;
  /** Kernel command line that puts the console on the first serial port. */
  cmdline: string;
  kernelVersion: string;
}

const here = new URL('.', import.meta.url).pathname;
const KERNEL_META = 'linux-image-cloud-amd64';
/** What the guest needs; what they depend on comes along. */
/** cdrom and isofs: the guest reads the hostname from a cloud-init seed (an iso9660 `cidata` drive) when it has one. */
const MODULES = ['virtio_pci', 'virtio_net', 'virtio_blk', 'button', 'evdev', 'cdrom', 'isofs'];
const BUSYBOX = '/bin/busybox';
export const GUEST_CMDLINE = 'console=ttyS0 panic=-1 quiet loglevel=3';
export const READY_MARKER = 'VWS-GUEST-READY';
/** What the guest's image disk says about itself (served at /image). */
export const DISK_LABEL = 'vws test guest disk';

function run(cmd: string, args: string[], cwd?: string, input?: Buffer): Buffer {
  try {
    return execFileSync(cmd, args, { cwd, input, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20 });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${err.stderr?.toString().trim() || err.message}`, { cause: e });
  }
}

function need(path: string, pkg: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: install Debian's ${pkg} (apt-get install -y ${pkg})`);
}

/** A module's dependencies, from the `depends=` entry of its .modinfo section (there is no modinfo here). */
function dependsOf(ko: Buffer): string[] {
  const at = ko.indexOf('depends=');
  if (at < 0) return [];
  const value = ko.subarray(at + 'depends='.length, ko.indexOf(0, at)).toString();
  return value ? value.split(',') : [];
}

/** Modules in an order insmod accepts: each after everything it depends on. */
function loadOrder(wanted: string[], dependencies: (m: string) => string[]): string[] {
  const order: string[] = [];
  const visit = (m: string, path: string[]): void => {
    if (order.includes(m)) return;
    if (path.includes(m)) throw new Error(`modules depend on each other in a cycle: ${[...path, m].join(' -> ')}`);
    for (const d of dependencies(m)) visit(d, [...path, m]);
    order.push(m);
  };
  for (const m of wanted) visit(m, []);
  return order;
}

/** The concrete kernel package the meta-package points at, e.g. linux-image-6.1.0-56-cloud-amd64. */
function kernelPackage(): string {
  const out = run('apt-cache', ['depends', KERNEL_META]).toString();
  const pkg = /Depends: (linux-image-[0-9][^\s]*)/.exec(out)?.[1];
  if (!pkg) throw new Error(`apt-cache knows no ${KERNEL_META}: run apt-get update first`);
  return pkg;
}

export function guestCacheDir(): string {
  return process.env.VWS_GUEST_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'vws', 'test-guest');
}

/** Builds the guest (or finds it already built) and returns where its parts are. */
export function buildTestGuest(cacheDir = guestCacheDir()): TestGuest {
  need(BUSYBOX, 'busybox-static');
  need('/usr/bin/qemu-img', 'qemu-utils');
  const pkg = kernelPackage();
  const init = readFileSync(join(here, 'init'));
  const script = readFileSync(join(here, 'udhcpc.script'));
  const key = createHash('sha256').update(pkg).update(init).update(script).update(readFileSync(BUSYBOX)).update(MODULES.join(',')).update(DISK_LABEL).digest('hex').slice(0, 16);
  const dir = join(cacheDir, key);
  const guest: TestGuest = { kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.gz'), disk: join(dir, 'disk.qcow2'), cmdline: GUEST_CMDLINE, kernelVersion: pkg.replace('linux-image-', '') };
  if (existsSync(join(dir, 'done'))) return guest;

  mkdirSync(cacheDir, { recursive: true });
  // Built aside and renamed into place, so that concurrent builders never see half a guest.
  const work = mkdtempSync(join(cacheDir, '.build-'));
  try {
    run('apt-get', ['download', pkg], work);
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg} left no .deb in ${work}`);
    run('dpkg-deb', ['-x', deb, 'kernel'], work);
    const version = pkg.replace('linux-image-', '');
    const out = join(work, 'out');
    mkdirSync(out);
    copyFileSync(join(work, 'kernel/boot', `vmlinuz-${version}`), join(out, 'vmlinuz'));

    const root = join(work, 'initramfs');
    for (const d of ['bin', 'sbin', 'etc', 'proc', 'sys', 'dev', 'lib/modules', 'www', 'tmp']) mkdirSync(join(root, d), { recursive: true });
    copyFileSync(BUSYBOX, join(root, 'bin/busybox'));
    chmodSync(join(root, 'bin/busybox'), 0o755);
    writeFileSync(join(root, 'init'), init, { mode: 0o755 });
    writeFileSync(join(root, 'etc/udhcpc.script'), script, { mode: 0o755 });
    const moduleFiles = run('find', [join(work, 'kernel/lib/modules'), '-name', '*.ko*']).toString().trim().split('\n');
    const order = loadOrder(MODULES, (m) => {
      const file = moduleFiles.find((f) => f.endsWith(`/${m}.ko`));
      if (!file) throw new Error(`${pkg} has no uncompressed module ${m}.ko`);
      copyFileSync(file, join(root, 'lib/modules', `${m}.ko`));
      return dependsOf(readFileSync(file));
    });
    writeFileSync(join(root, 'lib/modules/load-order'), `${order.join('\n')}\n`);
    const list = run('find', ['.', '-mindepth', '1'], root);
    const cpio = run(BUSYBOX, ['cpio', '-o', '-H', 'newc'], root, list);
    writeFileSync(join(out, 'initrd.gz'), gzipSync(cpio, { level: 9 }));

    const diskRoot = join(work, 'disk');
    mkdirSync(diskRoot);
    writeFileSync(join(diskRoot, 'vws-image'), `${DISK_LABEL}\n`);
    run('/usr/sbin/mke2fs', ['-q', '-t', 'ext4', '-L', 'vws-guest', '-d', diskRoot, join(work, 'disk.raw'), '16M']);
    run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', join(work, 'disk.raw'), join(out, 'disk.qcow2')]);
    writeFileSync(join(out, 'done'), `${pkg}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(out, dir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return guest;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const guest = buildTestGuest();
  process.stdout.write(`${JSON.stringify(guest, null, 2)}\n`);
}
