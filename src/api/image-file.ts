// What an image file is, as qemu-img sees it, and whether it stands alone. Used by the server on
// every upload (before the content is kept) and by `vws image import` before it converts a file.
//
// An image file can name other files that qemu then opens: a qcow2 backing file or external data
// file, or a vmdk descriptor's extents. Those names are paths on whatever host opens the image, so
// an uploaded image with a backing file of /etc/shadow, or a vmdk whose flat extent is a host
// device, would have qemu-img convert (on the client) or the VM (on a node) read that host's file.
// Such images are refused, never followed: qemu-img info itself does not open them.

import { execFile } from 'node:child_process';

export interface ImageFileInfo {
  /** As qemu-img probes it from the content: qcow2, raw, vmdk, vdi, ... */
  format: string;
  virtualBytes: number;
  /** Files other than this one that qemu would open to read the image (backing, data file, extents). */
  otherFiles: string[];
}

/** Formats `vws image import` converts from. */
export const IMPORT_FORMATS = ['qcow2', 'raw', 'vmdk', 'vdi'] as const;

/** A qemu-img that fails is an error whose message is what to do; `missing` says qemu-img is not installed. */
export class QemuImgError extends Error {
  constructor(message: string, readonly missing = false) {
    super(message);
  }
}

interface QemuInfo {
  format: string;
  filename?: string;
  'virtual-size': number;
  'backing-filename'?: string;
  'full-backing-filename'?: string;
  'format-specific'?: { type?: string; data?: { 'data-file'?: string; extents?: Array<{ filename?: string }> } };
}

/**
 * qemu-img info on `path`, the format probed from its content (never taken from its name).
 * qemu-img runs with bounded memory and CPU time: a crafted header must not take the server down
 * (OpenStack bounds it likewise, after CVE-2015-5162).
 */
export async function imageFileInfo(path: string): Promise<ImageFileInfo> {
  const out = await qemuImg(['info', '--output=json', path]);
  const info = JSON.parse(out) as QemuInfo;
  const data = info['format-specific']?.data;
  const backing = info['full-backing-filename'] ?? info['backing-filename'];
  const extents = (data?.extents ?? []).map((e) => e.filename ?? '').filter((f) => f !== info.filename && f !== path);
  return {
    format: info.format,
    virtualBytes: info['virtual-size'],
    otherFiles: [...(backing !== undefined ? [backing] : []), ...(data?.['data-file'] !== undefined ? [data['data-file']] : []), ...extents],
  };
}

/** Why the image does not stand alone (it names another file qemu would open), or null. */
export function notSelfContained(info: ImageFileInfo): string | null {
  if (info.otherFiles.length === 0) return null;
  return `the ${info.format} image reads other files (${info.otherFiles.join(', ')}): a backing file, external data file or extent is a path on whatever host opens the image, so such images are refused. `
    + 'Make it self-contained first (qemu-img convert -O qcow2 IMAGE standalone.qcow2, on a machine where its backing file is the one you mean)';
}

/** Converts `src` (of format `from`, as probed) to a self-contained qcow2 at `dest`. */
export async function convertToQcow2(src: string, from: string, dest: string): Promise<void> {
  // The caller's own file, on its own machine (vws image import): room for convert's worker threads.
  await qemuImg(['convert', '-q', '-f', from, '-O', 'qcow2', src, dest], 3600, 4 * GIB);
}

const GIB = 1024 ** 3;

/**
 * Runs qemu-img under prlimit (`addressSpace` bytes, 1 GiB unless given, and `cpuSeconds` of CPU),
 * as OpenStack does for images it did not make: its standard output. The limit is on address
 * space, and glibc reserves 64 MiB of it for each malloc arena, one per busy thread: on a loaded
 * machine qemu-img's threads took their arenas past 1 GiB ("failed to allocate memory for stack",
 * seen in CI). Two arenas bound that whatever the load, and the limit still stops a hostile image.
 */
function qemuImg(args: string[], cpuSeconds = 30, addressSpace = GIB): Promise<string> {
  const limits = [`--as=${addressSpace}`, `--cpu=${cpuSeconds}`, '--', 'qemu-img'];
  return new Promise((resolve, reject) => {
    execFile('prlimit', [...limits, ...args], { maxBuffer: 4 * 1024 * 1024, env: { ...process.env, MALLOC_ARENA_MAX: '2' } }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const why = stderr.trim() || err.message;
      // prlimit exits 127 (or 126) when it cannot run the command it was given; ENOENT is prlimit itself.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err.code === 127 || err.code === 126) {
        return reject(new QemuImgError(`qemu-img ${args[0]} could not run (${why}): install qemu-img (Debian: qemu-utils) and prlimit (util-linux)`, true));
      }
      reject(new QemuImgError(`qemu-img ${args[0]} failed: ${why}`));
    });
  });
}
