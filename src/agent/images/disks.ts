// A workspace's disks, made with qemu-img: a copy-on-write overlay over a cached base image, and
// blank scratch disks.

import { execFile } from 'node:child_process';
import { lstat, rm } from 'node:fs/promises';
import { resolve } from 'node:path';

export interface DiskInfo {
  format: string;
  virtualBytes: number;
  actualBytes: number;
  /** The backing file as qemu will open it (made absolute), or null if the disk stands alone. */
  backing: string | null;
}

/**
 * A qcow2 overlay at `overlay` whose reads fall through to `base` and whose writes stay in the overlay,
 * so many workspaces share one cached base.
 */
export async function createOverlay(base: string, overlay: string): Promise<void> {
  // qemu resolves a relative backing path against the overlay's directory, not ours.
  const absBase = resolve(base);
  await refuseExisting(overlay);
  const { format, backing, dataFile } = await inspect(absBase, false);
  // A base is an image anyone may have uploaded: a backing or data file of its own would have the
  // workspace read a file on this host.
  if (backing !== null) throw new Error(`base image ${absBase} has a backing file of its own (${backing}); base images must be self-contained`);
  if (dataFile !== null) throw new Error(`base image ${absBase} keeps its data in an external file (${dataFile}); base images must be self-contained`);
  // The server keeps qcow2 and raw only. Other formats can name files of their own that the checks
  // above do not see (a vmdk descriptor's extents), and content stored before the server checked
  // formats may be one of them.
  if (format !== 'qcow2' && format !== 'raw') throw new Error(`base image ${absBase} is ${format}; base images are qcow2 or raw: re-import it (vws image import converts ${format} to qcow2)`);
  await qemuImg(['create', '-q', '-f', 'qcow2', '-b', absBase, '-F', format, overlay]);
}

/**
 * Points an overlay that arrived from another node at this node's copy of its base (the same
 * content, by sha256, at another path). Unsafe mode: only the header changes, no data is read.
 */
export async function rebaseOverlay(overlay: string, base: string): Promise<void> {
  const absBase = resolve(base);
  const { format } = await inspect(absBase, false);
  await qemuImg(['rebase', '-u', '-b', absBase, '-F', format, overlay]);
}

/** A blank qcow2 disk of `sizeMiB` MiB (virtual; it takes space only as the guest writes). */
export async function createScratch(path: string, sizeMiB: number): Promise<void> {
  if (!Number.isSafeInteger(sizeMiB) || sizeMiB <= 0) throw new RangeError(`a scratch disk size must be a whole number of MiB > 0, got ${sizeMiB}`);
  await refuseExisting(path);
  await qemuImg(['create', '-q', '-f', 'qcow2', path, `${sizeMiB}M`]);
}

export async function diskInfo(path: string): Promise<DiskInfo> {
  // Force-share: the disk may be open in a running VM, whose write lock would otherwise refuse us.
  const { format, virtualBytes, actualBytes, backing } = await inspect(path, true);
  return { format, virtualBytes, actualBytes, backing };
}

/** Deletes a workspace disk; a disk already gone is fine, so cleanup can be retried. */
export async function removeDisk(path: string): Promise<void> {
  await rm(path, { force: true });
}

async function refuseExisting(path: string): Promise<void> {
  // qemu-img create silently truncates an existing file, which here would be a workspace's data.
  const existing = await lstat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw e;
  });
  if (existing) throw new Error(`${path} already exists; remove the old disk (removeDisk) before creating a new one there`);
}

async function inspect(path: string, forceShare: boolean): Promise<DiskInfo & { dataFile: string | null }> {
  const out = await qemuImg(['info', '--output=json', ...(forceShare ? ['--force-share'] : []), path]);
  const info = JSON.parse(out) as {
    format: string;
    'virtual-size': number;
    'actual-size'?: number;
    'backing-filename'?: string;
    'full-backing-filename'?: string;
    'format-specific'?: { data?: { 'data-file'?: string } };
  };
  return {
    format: info.format,
    virtualBytes: info['virtual-size'],
    actualBytes: info['actual-size'] ?? 0,
    backing: info['full-backing-filename'] ?? info['backing-filename'] ?? null,
    dataFile: info['format-specific']?.data?.['data-file'] ?? null,
  };
}

function qemuImg(args: string[]): Promise<string> {
  const command = ['qemu-img', ...args].map(shellWord).join(' ');
  return new Promise((resolvePromise, reject) => {
    execFile('qemu-img', args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolvePromise(stdout);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(new Error(`${command}: qemu-img is not installed on this node (it ships in the qemu-utils package)`, { cause: err }));
      }
      const why = stderr.trim() || err.message;
      reject(new Error(`${command} failed (exit ${err.code ?? err.signal}): ${why}`, { cause: err }));
    });
  });
}

/** Quoted only when needed, so the command in an error can be pasted into a shell to retry. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
