// Images have an owner and a visibility (issue 14, finding 7: any user listed, downloaded and
// leased any image, and registering alice's sha256 under a new name gave bob uploaded:true without
// uploading a byte). private: alice (owner) and admin; group: also carol (alice's group lab);
// public: bob too. Whoever may not see an image is answered as for a name never registered; only
// the owner and administrators change one. On SQLite and on PostgreSQL.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { type ApiWorld, apiWorld, lease, STORE_KINDS, T0 } from './api-world.ts';
import { assertRefused } from './refusal-assert.ts';

type Who = 'alice' | 'carol' | 'bob' | 'admin';
type Visibility = 'private' | 'group' | 'public';
const CALLERS: readonly Who[] = ['alice', 'carol', 'bob', 'admin'];

/** Who sees (and so may use) an image of alice's, written out rather than computed by the rule under test. */
const SEES: Record<Visibility, readonly Who[]> = { private: ['alice', 'admin'], group: ['alice', 'carol', 'admin'], public: ['alice', 'carol', 'bob', 'admin'] };
/** Who changes it: its owner and administrators, whatever its visibility. */
const CHANGES: readonly Who[] = ['alice', 'admin'];

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function client(w: ApiWorld) {
  const as = (who: Who) => w.tokens[who];
  return {
    register: (who: Who, body: Record<string, unknown>) => w.call(as(who), 'POST', '/v1/images', body),
    async put(who: Who, name: string, content: Buffer) {
      const res = await w.app.inject({ method: 'PUT', url: `/v1/images/${name}/content`, payload: content, headers: { authorization: `Bearer ${as(who)}`, 'content-type': 'application/octet-stream' } });
      return { status: res.statusCode, body: JSON.parse(res.body) };
    },
    async get(who: Who, name: string) {
      const res = await w.app.inject({ method: 'GET', url: `/v1/images/${name}/content`, headers: { authorization: `Bearer ${as(who)}` } });
      return { status: res.statusCode, bytes: res.rawPayload, body: res.headers['content-type']?.toString().includes('json') ? JSON.parse(res.body) : null };
    },
    list: async (who: Who): Promise<string[]> => (await w.call(as(who), 'GET', '/v1/images')).body.images.map((i: { name: string }) => i.name),
    patch: (who: Who, name: string, body: unknown) => w.call(as(who), 'PATCH', `/v1/images/${name}`, body),
    lease: (who: Who, image: string) => w.call(as(who), 'POST', '/v1/leases', lease({ image })),
    quote: (who: Who, image: string) => w.call(as(who), 'POST', '/v1/leases/quote', lease({ image })),
    hold: (who: Who, image: string) => w.call(as(who), 'POST', '/v1/leases/hold', { lease: lease({ kind: 'exact', start: T0 + 3600, image }), ttl: 600 }),
    cancel: (who: Who, id: string) => w.call(as(who), 'DELETE', `/v1/leases/${id}`),
  };
}

/** What an image that was never registered gets: an image one may not see must get exactly this. */
async function unregisteredAnswers(c: ReturnType<typeof client>, who: Who) {
  const scrub = (r: { status: number; body: { code: string; message: string; path?: string } }) => ({ status: r.status, code: r.body.code, message: r.body.message.replaceAll('never-registered', 'NAME'), path: r.body.path });
  return {
    get: scrub(await c.get(who, 'never-registered')), put: scrub(await c.put(who, 'never-registered', Buffer.from('x'))),
    patch: scrub(await c.patch(who, 'never-registered', { visibility: 'private' })),
    lease: scrub(await c.lease(who, 'never-registered')), quote: scrub(await c.quote(who, 'never-registered')), hold: scrub(await c.hold(who, 'never-registered')),
  };
}

for (const kind of STORE_KINDS) {
  test(`${kind}: each visibility × each caller × each operation gets the answer of the table`, async () => {
    const w = await apiWorld(4, undefined, kind);
    try {
      const c = client(w);
      const content = (v: Visibility) => Buffer.from(`alice's ${v} disk`);
      for (const v of ['private', 'group', 'public'] as const) {
        const name = `${v}-disk`;
        // Alice may not publish: an administrator makes her image public.
        const made = await c.register('alice', { name, sizeMiB: 1, sha256: sha(content(v)), ...(v === 'public' ? {} : { visibility: v }) });
        assert.equal(made.status, 201, JSON.stringify(made.body));
        assert.deepEqual([made.body.owner, made.body.group, made.body.visibility, made.body.uploaded], ['alice', 'lab', v === 'public' ? 'private' : v, false]);
        assert.equal((await c.put('alice', name, content(v))).status, 200);
        if (v === 'public') assert.equal((await c.patch('admin', name, { visibility: 'public' })).body.visibility, 'public');
      }
      const unregistered = Object.fromEntries(await Promise.all(CALLERS.map(async (who) => [who, await unregisteredAnswers(c, who)])));
      for (const v of ['private', 'group', 'public'] as const) {
        const name = `${v}-disk`;
        for (const who of CALLERS) {
          const at = `${who} on alice's ${v} image`;
          const sees = SEES[v].includes(who);
          const hidden = unregistered[who];
          const scrub = (r: { status: number; body: { code: string; message: string; path?: string } }) => ({ status: r.status, code: r.body.code, message: r.body.message.replaceAll(name, 'NAME'), path: r.body.path });
          assert.equal((await c.list(who)).includes(name), sees, `${at}: list`);
          const got = await c.get(who, name);
          if (sees) assert.deepEqual([got.status, got.bytes.toString()], [200, content(v).toString()], `${at}: get content`);
          else assert.deepEqual(scrub(got), hidden.get, `${at}: get content answers as for no image`);
          for (const [op, res] of [['put content', await c.put(who, name, content(v))], ['patch', await c.patch(who, name, { visibility: v })]] as const) {
            if (CHANGES.includes(who)) assert.equal(res.status, 200, `${at}: ${op} ${JSON.stringify(res.body)}`);
            else if (sees) assertRefused(res, 'forbidden', `${at}: ${op}`);
            else assert.deepEqual(scrub(res), op === 'patch' ? hidden.patch : hidden.put, `${at}: ${op} answers as for no image`);
          }
          for (const op of ['lease', 'quote', 'hold'] as const) {
            const res = await c[op](who, name);
            if (!sees) {
              assert.deepEqual(scrub(res), hidden[op], `${at}: ${op} answers as for no image`);
              assertRefused(res, 'unknown-image', `${at}: ${op}`);
              continue;
            }
            assert.equal(res.status, op === 'quote' ? 200 : 201, `${at}: ${op} ${JSON.stringify(res.body)}`);
            if (op !== 'quote') assert.equal((await c.cancel(who, res.body.lease.id)).status, 200);
          }
        }
      }
      // Nothing an answer did changed what alice's images are.
      const rows = await w.store.listImages();
      assert.deepEqual(rows.map((i) => [i.name, i.owner, i.group, i.visibility, i.uploaded]), [
        ['group-disk', 'alice', 'lab', 'group', true], ['private-disk', 'alice', 'lab', 'private', true], ['public-disk', 'alice', 'lab', 'public', true],
      ]);
    } finally {
      await w.close();
    }
  });

  test(`${kind}: registering content stored for an image one may not see gives no access to it`, async () => {
    const w = await apiWorld(2, undefined, kind);
    try {
      const c = client(w);
      const secret = Buffer.from('alice\'s private disk');
      assert.equal((await c.register('alice', { name: 'secret', sizeMiB: 1, sha256: sha(secret) })).status, 201);
      assert.equal((await c.put('alice', 'secret', secret)).status, 200);
      // Bob's answer is the same whether or not the bytes are stored: uploaded:false both times.
      const copy = await c.register('bob', { name: 'copy', sizeMiB: 1, sha256: sha(secret) });
      const fresh = await c.register('bob', { name: 'fresh', sizeMiB: 1, sha256: sha(Buffer.from('never stored')) });
      assert.deepEqual([copy.status, copy.body.uploaded, fresh.status, fresh.body.uploaded], [201, false, 201, false]);
      assert.deepEqual(Object.keys(copy.body).sort(), Object.keys(fresh.body).sort());
      assertRefused(await c.get('bob', 'copy'), 'not-found', 'bob never uploaded it');
      for (const op of ['lease', 'quote', 'hold'] as const) {
        const refused = await c[op]('bob', 'copy');
        assertRefused(refused, 'wrong-state', `bob's ${op} names an image with no content`);
        assert.match(refused.body.message, /image 'copy' has no content yet: upload it/);
      }
      // Carol (alice's group) is in the same place while the image is private, and not once it is shared with lab.
      assert.equal((await c.register('carol', { name: 'carol-copy', sizeMiB: 1, sha256: sha(secret) })).body.uploaded, false);
      assert.equal((await c.patch('alice', 'secret', { visibility: 'group' })).status, 200);
      const shared = await c.register('carol', { name: 'carol-shared', sizeMiB: 1, sha256: sha(secret) });
      assert.equal(shared.body.uploaded, true, 'carol could read those bytes already');
      assert.equal((await c.get('carol', 'carol-shared')).bytes.toString(), secret.toString());
      assert.equal((await c.register('bob', { name: 'copy-2', sizeMiB: 1, sha256: sha(secret) })).body.uploaded, false, 'still not bob');
      assert.equal((await c.register('admin', { name: 'admins', sizeMiB: 1, sha256: sha(secret) })).body.uploaded, true, 'an administrator sees every image');
      // Bob's upload is checked against the hash; the right bytes make the image his to use.
      assertRefused(await c.put('bob', 'copy', Buffer.from('a guess')), 'checksum-mismatch');
      assert.equal((await w.store.getImage('copy'))!.uploaded, false);
      assert.equal((await c.put('bob', 'copy', secret)).status, 200);
      assert.equal((await c.get('bob', 'copy')).bytes.toString(), secret.toString());
      assert.equal((await c.lease('bob', 'copy')).status, 201);
      assertRefused(await c.get('bob', 'secret'), 'not-found', 'alice\'s image is still not bob\'s to see');
      // A taken name is said to be taken; what holds it, only to whoever may see it.
      const taken = await c.register('bob', { name: 'carol-copy', sizeMiB: 1, sha256: sha(Buffer.from('mine')) });
      assertRefused(taken, 'already-exists');
      assert.doesNotMatch(taken.body.message, /[0-9a-f]{64}/);
    } finally {
      await w.close();
    }
  });

  test(`${kind}: boot parts are images the caller may see, at registration and when a lease names the disk`, async () => {
    const w = await apiWorld(2, undefined, kind);
    try {
      const c = client(w);
      for (const [name, body] of [['kernel', 'k'], ['initrd', 'i']] as const) {
        assert.equal((await c.register('alice', { name, sizeMiB: 1, sha256: sha(Buffer.from(body)) })).status, 201);
        assert.equal((await c.put('alice', name, Buffer.from(body))).status, 200);
      }
      const boot = { kernel: 'kernel', initrd: 'initrd', cmdline: 'console=ttyS0' };
      const disk = Buffer.from('disk');
      const bobs = await c.register('bob', { name: 'bob-disk', sizeMiB: 1, sha256: sha(disk), boot });
      const nowhere = await c.register('bob', { name: 'bob-disk', sizeMiB: 1, sha256: sha(disk), boot: { ...boot, kernel: 'no-kernel' } });
      assertRefused(bobs, 'unknown-image', 'alice\'s private kernel');
      assert.deepEqual(bobs.body, { ...nowhere.body, message: nowhere.body.message.replace('no-kernel', 'kernel') }, 'answered as for a kernel never registered');
      // Alice shares the disk with her group but not its kernel: carol sees the disk and cannot lease it.
      assert.equal((await c.register('alice', { name: 'disk', sizeMiB: 1, sha256: sha(disk), boot, visibility: 'group' })).status, 201);
      assert.equal((await c.put('alice', 'disk', disk)).status, 200);
      const refused = await c.lease('carol', 'disk');
      assertRefused(refused, 'unknown-image');
      assert.match(refused.body.message, /image 'disk' boots from 'kernel', which is not registered or not shared with you/);
      for (const part of ['kernel', 'initrd']) assert.equal((await c.patch('alice', part, { visibility: 'group' })).status, 200);
      assert.equal((await c.lease('carol', 'disk')).status, 201);
    } finally {
      await w.close();
    }
  });

  test(`${kind}: only administrators publish; a group is one of the caller's; PATCH changes only who sees`, async () => {
    const w = await apiWorld(1, undefined, kind);
    try {
      const c = client(w);
      const body = { name: 'img', sizeMiB: 1, sha256: 'a'.repeat(64) };
      const pub = await c.register('alice', { ...body, visibility: 'public' });
      assertRefused(pub, 'forbidden');
      assert.match(pub.body.message, /only an administrator may make an image public/);
      assert.equal(await w.store.getImage('img'), null);
      const made = await c.register('alice', body);
      assert.deepEqual([made.body.visibility, made.body.group], ['private', 'lab'], 'private by default, with alice\'s one group');
      assert.deepEqual([(await c.register('bob', { ...body, name: 'b' })).body.group], [null], 'bob has no group');
      assertRefused(await c.patch('alice', 'img', { visibility: 'public' }), 'forbidden');
      await w.store.putGroup({ name: 'ops', shareLeases: false, createdAt: T0 });
      assertRefused(await c.patch('alice', 'img', { group: 'ops' }), 'forbidden', 'alice is not in ops');
      assert.deepEqual((await c.patch('admin', 'img', { visibility: 'public' })).body.visibility, 'public');
      assert.equal((await c.patch('alice', 'img', { visibility: 'public' })).status, 200, 'it is public already: nothing is published');
      const back = await c.patch('alice', 'img', { visibility: 'private' });
      assert.equal(back.status, 200, 'the owner narrows it');
      assert.deepEqual({ ...back.body }, { ...made.body }, 'the same image as registered');
      assert.deepEqual(await w.store.getImage('img'), made.body);
    } finally {
      await w.close();
    }
  });
}
