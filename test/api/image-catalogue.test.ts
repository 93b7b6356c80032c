// The appliance catalogue through the API: descriptions set at registration and by PATCH, shown
// and filtered, on both stores; strict description bodies; minimum resources refused at quote and
// at create (a lease's one shape and a cluster's role), leaving nothing made; content checked with
// real qemu-img before it is kept.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type ApiWorld, apiWorld, lease, STORE_KINDS } from './api-world.ts';
import { cluster, headRole, workerRole } from './cluster-body.ts';
import { assertRefused } from './refusal-assert.ts';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const RAW = Buffer.from('a raw disk of a few bytes');
const DEBIAN = {
  version: '12.7', os: { family: 'debian', release: '12' }, maintainer: 'Site team <site@example.org>', summary: 'Debian with an NFS server',
  minimum: { cpu: 1, memoryMiB: 1024, diskMiB: 2048 }, provides: ['ssh', 'nfs-server'], requires: ['cloud-init', 'nocloud'],
};

async function upload(w: ApiWorld, token: string, name: string, content: Buffer): Promise<{ status: number; body: Record<string, string> }> {
  const res = await w.app.inject({ method: 'PUT', url: `/v1/images/${name}/content`, payload: content, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' } });
  return { status: res.statusCode, body: JSON.parse(res.body) };
}

/** An image of alice's, described, its content uploaded. */
async function registered(w: ApiWorld, name: string, description: Record<string, unknown>, content = RAW): Promise<void> {
  const made = await w.call(w.tokens.alice, 'POST', '/v1/images', { name, sizeMiB: 1, sha256: sha256(content), description, visibility: 'group' });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  assert.equal((await upload(w, w.tokens.alice, name, content)).status, 200);
}

for (const kind of STORE_KINDS) {
  test(`${kind}: a description is kept, shown, filtered and replaced; the uploaded content's format stays`, async () => {
    const w = await apiWorld(2, undefined, kind);
    try {
      await registered(w, 'nfs', DEBIAN);
      await registered(w, 'tiny', { os: { family: 'alpine' }, provides: ['ssh'] }, Buffer.from('another raw disk'));
      const nfs = (await w.call(w.tokens.carol, 'GET', '/v1/images/nfs')).body;
      assert.deepEqual(nfs.description, { ...DEBIAN, format: 'raw' }, 'the upload sets the format it found');
      assert.equal((await w.call(w.tokens.bob, 'GET', '/v1/images/nfs')).status, 404, 'an image bob may not see is not there for him');
      const names = async (query: string) => (await w.call(w.tokens.carol, 'GET', `/v1/images${query}`)).body.images.map((i: { name: string }) => i.name);
      assert.deepEqual(await names(''), ['nfs', 'tiny']);
      assert.deepEqual(await names('?os=debian'), ['nfs']);
      assert.deepEqual(await names('?provides=ssh'), ['nfs', 'tiny']);
      assert.deepEqual(await names('?provides=nfs-server&release=12'), ['nfs']);
      assert.deepEqual(await names('?requires=cloud-init&format=raw'), ['nfs']);
      assert.deepEqual(await names('?cpu=0.5'), ['tiny'], 'a VM of half a CPU boots only the image without a minimum');
      assert.deepEqual(await names('?memoryMiB=1024&maintainer=SITE'), ['nfs']);
      assert.deepEqual(await names('?owner=bob'), []);

      const replaced = await w.call(w.tokens.alice, 'PATCH', '/v1/images/nfs', { description: { summary: 'retired' } });
      assert.deepEqual(replaced.body.description, { summary: 'retired', format: 'raw' }, 'replaced whole, the format kept');
      assert.deepEqual((await w.call(w.tokens.alice, 'PATCH', '/v1/images/nfs', { description: null })).body.description, { format: 'raw' });
      const contradicted = await w.call(w.tokens.alice, 'PATCH', '/v1/images/nfs', { description: { format: 'qcow2' } });
      assert.deepEqual([contradicted.status, contradicted.body.path], [400, 'body.description.format']);
      assertRefused(await w.call(w.tokens.carol, 'PATCH', '/v1/images/nfs', { description: { summary: 'mine' } }), 'forbidden', 'a member sees but does not describe');
      assert.deepEqual((await w.call(w.tokens.admin, 'PATCH', '/v1/images/nfs', { description: DEBIAN })).body.description, { ...DEBIAN, format: 'raw' });
      assert.deepEqual((await w.store.getImage('nfs'))?.description, { ...DEBIAN, format: 'raw' });
    } finally {
      await w.close();
    }
  });
}

test('descriptions are strict: unknown keys, numbers out of range, unknown formats and bad names are refused with their path', async () => {
  const w = await apiWorld(1);
  try {
    const cases: Array<[string, unknown, string]> = [
      ['an unknown key', { flavour: 'vanilla' }, 'body.description.flavour'],
      ['an unknown key in minimum', { minimum: { gpus: 1 } }, 'body.description.minimum.gpus'],
      ['cpu 0', { minimum: { cpu: 0 } }, 'body.description.minimum.cpu'],
      ['cpu 1e300', { minimum: { cpu: 1e300 } }, 'body.description.minimum.cpu'],
      ['cpu "2"', { minimum: { cpu: '2' } }, 'body.description.minimum.cpu'],
      ['memoryMiB 1.5', { minimum: { memoryMiB: 1.5 } }, 'body.description.minimum.memoryMiB'],
      ['a format vmdk', { format: 'vmdk' }, 'body.description.format'],
      ['a summary of two lines', { summary: 'one\ntwo' }, 'body.description.summary'],
      ['a summary of 2000 characters', { summary: 'x'.repeat(2000) }, 'body.description.summary'],
      ['an upper-case capability', { provides: ['SSH'] }, 'body.description.provides.0'],
      ['a capability twice', { provides: ['ssh', 'ssh'] }, 'body.description.provides'],
      ['an OS without its family', { os: { release: '12' } }, 'body.description.os'],
    ];
    for (const [what, description, path] of cases) {
      for (const [method, url, body] of [['POST', '/v1/images', { name: 'x', sizeMiB: 1, sha256: 'a'.repeat(64), description }], ['PATCH', '/v1/images/x', { description }]] as const) {
        const res = await w.call(w.tokens.alice, method, url, body);
        assert.deepEqual([res.status, res.body.code, res.body.path], [400, 'invalid-request', path], `${method} with ${what}: ${JSON.stringify(res.body)}`);
      }
    }
    const filter = await w.call(w.tokens.alice, 'GET', '/v1/images?cpu=-1');
    assert.deepEqual([filter.status, filter.body.path], [400, 'querystring.cpu']);
    assert.deepEqual((await w.call(w.tokens.alice, 'GET', '/v1/images?colour=red')).status, 400);
    assert.deepEqual(await w.store.listImages(), [], 'nothing registered');
  } finally {
    await w.close();
  }
});

test('a lease below its image\'s minimum is refused at quote and at create, naming the image, its minimum and what to ask; nothing is made', async () => {
  const w = await apiWorld(4);
  try {
    await registered(w, 'nfs', { minimum: { cpu: 1, memoryMiB: 1024 } });
    const before = await w.digest.digest();
    const small = lease({ cpu: 0.5, memoryMiB: 512, image: 'nfs' });
    const roles = cluster({ roles: [headRole({ cpu: 1, memoryMiB: 1024, image: 'nfs' }), workerRole({ image: 'nfs' })] });
    for (const url of ['/v1/leases/quote', '/v1/leases']) {
      const plain = await w.call(w.tokens.alice, 'POST', url, small);
      assertRefused(plain, 'below-image-minimum', url);
      assert.equal(plain.body.path, 'body.image');
      assert.match(plain.body.message, /image 'nfs' needs at least cpu 1, memoryMiB 1024 per VM, and each VM has cpu 0\.5 < 1, memoryMiB 512 < 1024: ask for cpu 1 and memoryMiB 1024/);
      const role = await w.call(w.tokens.carol, 'POST', url, roles);
      assertRefused(role, 'below-image-minimum', `${url} with a role`);
      assert.equal(role.body.path, 'body.roles.1.image', 'the worker role, whose VMs are too small');
      assert.match(role.body.message, /role 'worker' \(each of its VMs\) has cpu 0\.5 < 1, memoryMiB 256 < 1024/);
    }
    const held = await w.call(w.tokens.alice, 'POST', '/v1/leases/hold', { lease: { ...small, kind: 'exact', start: 1_800_003_600 }, ttl: 600 });
    assertRefused(held, 'below-image-minimum', 'hold');
    assert.equal(await w.digest.digest(), before, 'no lease, half-made or whole');
    const enough = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ cpu: 1, memoryMiB: 1024, image: 'nfs' }));
    assert.equal(enough.status, 201, JSON.stringify(enough.body));
  } finally {
    await w.close();
  }
});

test('uploaded content must be the described format and read no other file (real qemu-img); nothing is kept otherwise', async () => {
  const w = await apiWorld(1);
  const dir = mkdtempSync(join(tmpdir(), 'vws-image-content-'));
  try {
    const overlay = join(dir, 'overlay.qcow2');
    writeFileSync(join(dir, 'host-file'), 'secret');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', join(dir, 'host-file'), '-F', 'raw', overlay]);
    const vdi = join(dir, 'disk.vdi');
    execFileSync('qemu-img', ['create', '-q', '-f', 'vdi', vdi, '1M']);
    const refusals: Array<[string, Buffer, Record<string, unknown> | undefined, RegExp]> = [
      ['a backing file', readFileSync(overlay), undefined, /reads other files \(.*host-file\)/],
      ['a vdi', readFileSync(vdi), undefined, /the content is a vdi image; the server keeps qcow2 or raw: convert it/],
      ['raw content described as qcow2', RAW, { format: 'qcow2' }, /the content is raw, but the image's description says qcow2/],
    ];
    for (const [i, [what, content, description, message]] of refusals.entries()) {
      const name = `bad-${i}`;
      assert.equal((await w.call(w.tokens.alice, 'POST', '/v1/images', { name, sizeMiB: 1, sha256: sha256(content), ...(description ? { description } : {}) })).status, 201);
      const res = await upload(w, w.tokens.alice, name, content);
      assertRefused({ status: res.status, body: res.body }, 'invalid-image-content', what);
      assert.match(res.body.message, message);
      assert.match(res.body.message, /nothing was stored$/);
      assert.equal((await w.store.getImage(name))?.uploaded, false);
    }
    assert.deepEqual(readdirSync(w.blobDir), [], 'no content kept, no temporary file left');
    // Registering content already stored is held to the same rule: its format is found, not assumed.
    await registered(w, 'good', {});
    const again = await w.call(w.tokens.alice, 'POST', '/v1/images', { name: 'same', sizeMiB: 1, sha256: sha256(RAW), description: { format: 'qcow2' } });
    assertRefused(again, 'invalid-image-content', 'stored raw content registered as qcow2');
    const same = await w.call(w.tokens.alice, 'POST', '/v1/images', { name: 'same', sizeMiB: 1, sha256: sha256(RAW) });
    assert.deepEqual([same.body.uploaded, same.body.description], [true, { format: 'raw' }]);
  } finally {
    await w.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
