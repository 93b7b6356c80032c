// vws image import against a real `vws serve`, with real qemu-img: images of each format made by
// qemu-img itself, their content checked after the round trip, and images that read other files
// refused at import and at upload.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { apiCall, BOOTSTRAP_TOKEN, freePort, type RealServer, startServer, vws } from './real-server.ts';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const qemuImg = (...args: string[]): string => execFileSync('qemu-img', args, { encoding: 'utf8' });

describe('vws image import against vws serve', { timeout: 300_000 }, () => {
  let dir: string;
  let server: RealServer;
  let admin: string;
  let base: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vws-import-'));
    server = await startServer(join(dir, 'data'), await freePort());
    admin = join(dir, 'admin.json');
    assert.equal(vws(admin, 'login', '--server', server.url, '--token', BOOTSTRAP_TOKEN).status, 0);
    // A 4 MiB disk with 1 MiB of data at its start: every other format is made from it.
    base = join(dir, 'base.raw');
    qemuImg('create', '-q', '-f', 'raw', base, '4M');
    const head = randomBytes(1024 * 1024);
    const disk = readFileSync(base);
    head.copy(disk);
    writeFileSync(base, disk);
  });

  after(async () => {
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  const stored = async (name: string): Promise<Buffer> => {
    const res = await fetch(`${server.url}/v1/images/${name}/content`, { headers: { authorization: `Bearer ${BOOTSTRAP_TOKEN}` } });
    assert.equal(res.status, 200);
    return Buffer.from(await res.arrayBuffer());
  };

  for (const format of ['vmdk', 'vdi', 'raw', 'qcow2']) {
    test(`a ${format} image is imported ${format === 'raw' || format === 'qcow2' ? 'as it is' : 'as qcow2'}, with the same disk content`, async () => {
      const file = join(dir, `disk.${format}`);
      if (format !== 'raw') qemuImg('convert', '-q', '-f', 'raw', '-O', format, base, file);
      const source = format === 'raw' ? base : file;
      const r = vws(admin, 'image', 'import', source, '--name', `from-${format}`, '--format', format, '--os', 'debian', '--os-release', '12', '--json');
      assert.equal(r.status, 0, r.stderr);
      const { image, converted } = JSON.parse(r.stdout);
      const want = format === 'raw' ? 'raw' : 'qcow2';
      assert.deepEqual(image.description, { os: { family: 'debian', release: '12' }, format: want });
      assert.equal(image.uploaded, true);
      assert.deepEqual(converted, format === want ? null : { from: format, to: 'qcow2' });
      const content = await stored(`from-${format}`);
      assert.equal(sha256(content), image.sha256, 'the server keeps the bytes it registered');
      if (format === want) assert.equal(image.sha256, sha256(readFileSync(source)), 'qcow2 and raw are uploaded unchanged');
      const back = join(dir, `back-${format}`);
      writeFileSync(back, content);
      assert.equal(JSON.parse(qemuImg('info', '--output=json', back)).format, want);
      assert.equal(spawnSync('qemu-img', ['compare', '-q', base, back]).status, 0, 'the disk reads the same as the one it was made from');
    });
  }

  test('a --format the content disagrees with is refused, and nothing is registered', () => {
    const file = join(dir, 'really.vdi');
    qemuImg('create', '-q', '-f', 'vdi', file, '4M');
    const r = vws(admin, 'image', 'import', file, '--name', 'liar', '--format', 'vmdk');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /is a vdi image, not vmdk as --format says: nothing was imported/);
    assert.equal(vws(admin, 'image', 'show', 'liar').status, 1);
  });

  test('a qcow2 with a backing file is refused at import, and by the server when uploaded as it is', async () => {
    const secret = join(dir, 'host-secret');
    writeFileSync(secret, 'not for guests\n');
    const file = join(dir, 'overlay.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', '-b', secret, '-F', 'raw', file);
    const imported = vws(admin, 'image', 'import', file, '--name', 'overlay');
    assert.equal(imported.status, 2, imported.stderr);
    assert.match(imported.stderr, /reads other files \(.*host-secret\).*refused/);
    assert.equal(vws(admin, 'image', 'show', 'overlay').status, 1, 'nothing registered');

    const added = vws(admin, 'image', 'add', 'overlay', '--file', file);
    assert.equal(added.status, 1);
    assert.match(added.stderr, /reads other files .*nothing was stored.*\(invalid-image-content\)/);
    const image = (await apiCall(server, BOOTSTRAP_TOKEN, 'GET', '/v1/images/overlay')).body;
    assert.equal(image.uploaded, false);
    assert.equal(existsSync(join(dir, 'data', 'blobs', image.sha256)), false, 'the content was not kept');
  });

  test('content of another format than the description says is refused on upload', async () => {
    const file = join(dir, 'plain.raw');
    writeFileSync(file, randomBytes(65536));
    const r = vws(admin, 'image', 'add', 'says-qcow2', '--file', file, '--format', 'qcow2');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /the content is raw, but the image's description says qcow2.*nothing was stored.*\(invalid-image-content\)/);
    assert.equal((await apiCall(server, BOOTSTRAP_TOKEN, 'GET', '/v1/images/says-qcow2')).body.uploaded, false);
  });

  test('the catalogue shows and filters descriptions; a lease below the minimum is refused naming what to ask', () => {
    const file = join(dir, 'disk.vmdk');
    const r = vws(admin, 'image', 'import', file, '--name', 'nfs-appliance', '--image-version', '1.2', '--os', 'debian', '--os-release', '12',
      '--maintainer', 'Site team', '--summary', 'an NFS server', '--min-cpu', '2', '--min-memory', '1024', '--provides', 'ssh,nfs-server', '--requires', 'cloud-init');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /converted from vmdk to qcow2/);
    const listed = vws(admin, 'image', 'list', '--provides', 'nfs-server');
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /^NAME\s+VERSION\s+OS\s+FORMAT\s+SIZE MiB\s+MINIMUM\s+PROVIDES/);
    assert.match(listed.stdout, /^nfs-appliance\s+1\.2\s+debian 12\s+qcow2\s+\d+\s+2 cpu, 1024 MiB\s+ssh,nfs-server\s+admin\s+private\s+yes$/m);
    assert.equal(listed.stdout.trim().split('\n').length, 2, 'only the image that provides nfs-server');
    const debian = JSON.parse(vws(admin, 'image', 'list', '--os', 'debian', '--cpu', '1', '--json').stdout).images.map((i: { name: string }) => i.name);
    assert.deepEqual(debian, ['from-qcow2', 'from-raw', 'from-vdi', 'from-vmdk'], 'a 1-CPU VM cannot boot the appliance');
    assert.match(vws(admin, 'image', 'show', 'nfs-appliance').stdout, /^requires\s+cloud-init$/m);

    const quote = vws(admin, 'lease', 'quote', '--nodes', '1', '--cpu', '1', '--memory', '512', '--duration', '10m', '--image', 'nfs-appliance');
    assert.equal(quote.status, 1);
    assert.match(quote.stderr, /image 'nfs-appliance' needs at least cpu 2, memoryMiB 1024 per VM.*ask for cpu 2 and memoryMiB 1024.*\(below-image-minimum\)/);
    const described = vws(admin, 'image', 'describe', 'nfs-appliance', '--min-cpu', '1', '--json');
    assert.equal(described.status, 0, described.stderr);
    assert.deepEqual(JSON.parse(described.stdout).description.minimum, { cpu: 1, memoryMiB: 1024 }, '--min-cpu alone keeps the minimum memory');
    assert.equal(JSON.parse(described.stdout).description.summary, 'an NFS server', 'the other fields stay');
    const ok = vws(admin, 'lease', 'quote', '--nodes', '1', '--cpu', '1', '--memory', '1024', '--duration', '10m', '--image', 'nfs-appliance', '--json');
    assert.equal(ok.status, 0, ok.stderr);
  });
});
