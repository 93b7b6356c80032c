// What qemu-img says of an image file, on files qemu-img itself makes: the probed format, and every
// other file the image would have qemu open (backing file, external data file, vmdk extents).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { imageFileInfo, notSelfContained, QemuImgError } from '../../src/api/image-file.ts';

const qemuImg = (...args: string[]): void => void execFileSync('qemu-img', args);

test('images that stand alone name no other file; backing files, data files and vmdk extents are named', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-image-file-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const format of ['qcow2', 'raw', 'vmdk', 'vdi']) {
    const file = join(dir, `plain.${format}`);
    qemuImg('create', '-q', '-f', format, file, '2M');
    // Named by its content, not its name.
    const renamed = join(dir, `plain-${format}.img`);
    execFileSync('mv', [file, renamed]);
    const info = await imageFileInfo(renamed);
    assert.deepEqual(info, { format, virtualBytes: 2 * 1024 * 1024, otherFiles: [] });
    assert.equal(notSelfContained(info), null);
  }
  const host = join(dir, 'host.raw');
  writeFileSync(host, Buffer.alloc(4096));
  const backed = join(dir, 'backed.qcow2');
  qemuImg('create', '-q', '-f', 'qcow2', '-b', host, '-F', 'raw', backed);
  const dataFile = join(dir, 'data-file.qcow2');
  qemuImg('create', '-q', '-f', 'qcow2', '-o', `data_file=${join(dir, 'data.raw')}`, dataFile, '1M');
  const flat = join(dir, 'flat.vmdk');
  qemuImg('create', '-q', '-f', 'vmdk', '-o', 'subformat=monolithicFlat', flat, '1M');
  for (const [file, other] of [[backed, host], [dataFile, join(dir, 'data.raw')], [flat, join(dir, 'flat-flat.vmdk')]]) {
    const info = await imageFileInfo(file);
    assert.ok(info.otherFiles.some((f) => f.endsWith(other.slice(dir.length))), `${file}: ${JSON.stringify(info)}`);
    assert.match(notSelfContained(info) ?? '', /reads other files .* such images are refused/);
  }
  await assert.rejects(imageFileInfo(join(dir, 'none')), (e: unknown) => e instanceof QemuImgError && !e.missing && /qemu-img info failed: .*No such file/.test(e.message));
});
