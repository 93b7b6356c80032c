// Workspace disks made with the real qemu-img: overlays over a base, blank scratch disks, and the
// errors when qemu-img refuses. Contents are written and checked with qemu-io (from qemu-utils).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { createOverlay, createScratch, diskInfo, removeDisk } from '../../../src/agent/images/disks.ts';

const run = promisify(execFile);
const MiB = 1024 * 1024;

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vws-disks-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs one qemu-io command on a disk; qemu-io exits non-zero when a pattern check fails. */
const qemuIo = (format: string, disk: string, command: string) => run('qemu-io', ['-f', format, '-c', command, disk]);

async function patternIs(format: string, disk: string, pattern: number, offset: string | number, length: string): Promise<boolean> {
  return qemuIo(format, disk, `read -P ${pattern} ${offset} ${length}`).then(
    () => true,
    () => false,
  );
}

const fileHash = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

test('an overlay over a qcow2 base reads the base, is backed by it, and keeps its writes to itself', async (t) => {
  const dir = await tempDir(t);
  const base = join(dir, 'base.qcow2');
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', base, '4M']);
  await qemuIo('qcow2', base, 'write -P 0xab 0 1M');
  const baseHash = await fileHash(base);

  const overlay = join(dir, 'ws-1', 'root.qcow2');
  await mkdir(join(dir, 'ws-1'));
  // Given relative, as a caller might: the overlay must still find its base.
  await createOverlay(relative(process.cwd(), base), overlay);

  const info = await diskInfo(overlay);
  assert.equal(info.format, 'qcow2');
  assert.equal(info.backing, base);
  assert.equal(info.virtualBytes, 4 * MiB);
  assert.ok(await patternIs('qcow2', overlay, 0xab, 0, '1M'), 'the overlay shows the base content');

  await qemuIo('qcow2', overlay, 'write -P 0xcd 0 64k');
  assert.ok(await patternIs('qcow2', overlay, 0xcd, 0, '64k'));
  assert.ok(await patternIs('qcow2', overlay, 0xab, '64k', '960k'), 'unwritten parts still come from the base');
  assert.ok(await patternIs('qcow2', base, 0xab, 0, '1M'), 'the base still reads as before');
  assert.equal(await fileHash(base), baseHash, 'the base file is byte for byte unchanged');
  await assert.rejects(run('qemu-img', ['compare', base, overlay]), (e: { code?: number }) => e.code === 1, 'qemu-img compare sees the overlay differ');
});

test('an overlay over a raw base names the base format raw', async (t) => {
  const dir = await tempDir(t);
  const base = join(dir, 'base.raw');
  await writeFile(base, Buffer.alloc(MiB, 0x5a));
  const overlay = join(dir, 'root.qcow2');
  await createOverlay(base, overlay);
  const { stdout } = await run('qemu-img', ['info', '--output=json', overlay]);
  assert.equal(JSON.parse(stdout)['backing-filename-format'], 'raw');
  assert.ok(await patternIs('qcow2', overlay, 0x5a, 0, '1M'));
});

test('createOverlay refuses a base with a backing file of its own, and will not overwrite an existing disk', async (t) => {
  const dir = await tempDir(t);
  const hostFile = join(dir, 'host-secret.raw');
  await writeFile(hostFile, Buffer.alloc(MiB));
  const sneaky = join(dir, 'sneaky.qcow2');
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', hostFile, '-F', 'raw', sneaky]);
  await assert.rejects(createOverlay(sneaky, join(dir, 'o1.qcow2')), /has a backing file of its own .*host-secret\.raw.*self-contained/);

  const base = join(dir, 'base.qcow2');
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', base, '1M']);
  const overlay = join(dir, 'o2.qcow2');
  await writeFile(overlay, 'a workspace disk already here');
  await assert.rejects(createOverlay(base, overlay), /o2\.qcow2 already exists; remove the old disk/);
  assert.equal(await readFile(overlay, 'utf8'), 'a workspace disk already here');
});

test('createOverlay refuses a base that is neither qcow2 nor raw: a vmdk descriptor names extents, files of the node', async (t) => {
  const dir = await tempDir(t);
  const vmdk = join(dir, 'flat.vmdk');
  await run('qemu-img', ['create', '-q', '-f', 'vmdk', '-o', 'subformat=monolithicFlat', vmdk, '1M']);
  await assert.rejects(createOverlay(vmdk, join(dir, 'o.qcow2')), /flat\.vmdk is vmdk; base images are qcow2 or raw: re-import it/);
});

test('a missing base fails with the qemu-img command and its stderr', async (t) => {
  const dir = await tempDir(t);
  const missing = join(dir, 'no such base.qcow2');
  await assert.rejects(createOverlay(missing, join(dir, 'o.qcow2')), (e: Error) => {
    assert.ok(e.message.startsWith(`qemu-img info --output=json '${missing}' failed (exit 1): `), e.message);
    assert.match(e.message, /Could not open .*No such file or directory/);
    return true;
  });
});

test('a scratch disk is a blank qcow2 of the requested virtual size', async (t) => {
  const dir = await tempDir(t);
  const scratch = join(dir, 'scratch.qcow2');
  await createScratch(scratch, 64);
  const info = await diskInfo(scratch);
  assert.deepEqual({ format: info.format, virtualBytes: info.virtualBytes, backing: info.backing }, { format: 'qcow2', virtualBytes: 64 * MiB, backing: null });
  assert.ok(info.actualBytes < 64 * MiB, `takes ${info.actualBytes} bytes before any write`);
  assert.ok(await patternIs('qcow2', scratch, 0, '63M', '1M'), 'reads as zeros');

  await assert.rejects(createScratch(scratch, 64), /already exists/);
  for (const bad of [0, -1, 1.5, NaN]) await assert.rejects(createScratch(join(dir, `bad-${bad}.qcow2`), bad), RangeError);
});

test('removeDisk deletes a disk and is fine with one already gone', async (t) => {
  const dir = await tempDir(t);
  const scratch = join(dir, 'scratch.qcow2');
  await createScratch(scratch, 1);
  await removeDisk(scratch);
  await assert.rejects(readFile(scratch), { code: 'ENOENT' });
  await removeDisk(scratch);
});
