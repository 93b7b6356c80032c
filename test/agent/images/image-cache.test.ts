// The node agent's base image cache: verified downloads, shared downloads, LRU eviction around images
// in use, and a cache that survives an agent restart. Real files in a temp dir; blobs from a real
// HTTP server on loopback where the transfer matters, from memory where only the bytes do.

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import '../../core/support/setup.ts';
import { ChecksumMismatch, ImageCache } from '../../../src/agent/images/image-cache.ts';
import { fetchBlob } from '../../../src/agent/images/http-fetch.ts';
import { sha256Of, startBlobServer, TOKEN, type BlobServer } from './blob-server.ts';

let server: BlobServer;
before(async () => {
  server = await startBlobServer();
});
after(() => server.close());

const openCaches: ImageCache[] = [];

/** A temp dir, removed after the test once the caches opened in it have finished their disk work. */
async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vws-image-cache-'));
  t.after(async () => {
    await Promise.allSettled(openCaches.splice(0).map((c) => c.flush()));
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

async function openCache(opts: { dir: string; limitBytes: number; now?: () => number }): Promise<ImageCache> {
  const cache = await ImageCache.open(opts);
  openCaches.push(cache);
  return cache;
}

/** A clock that ticks once per reading, so every use has its own time. */
function counter(): () => number {
  let t = 1000;
  return () => t++;
}

/** `bytes` bytes distinct per `seed`. */
const blob = (seed: number, bytes = 100): Buffer => Buffer.alloc(bytes, seed);

const fromMemory = (data: Uint8Array) => async () =>
  (async function* () {
    yield data;
  })();

/** Caches `data` (its sha256 as id) from memory. */
const put = (cache: ImageCache, data: Uint8Array, acquire = false) => cache.ensure(sha256Of(data), fromMemory(data), { acquire });

const order = (cache: ImageCache) => cache.entries().map((e) => e.sha256);

const filesIn = async (dir: string) => (await readdir(dir)).sort();

test('ensure downloads the blob over HTTP, verifies it and caches it; a second ensure reuses it', async (t) => {
  const dir = await tempDir(t);
  const cache = await openCache({ dir, limitBytes: 10_000, now: counter() });
  const data = Buffer.from('a base image, as the store serves it');
  const sha = sha256Of(data);
  const path = server.put(data);
  const fetch = () => fetchBlob(server.url(path), TOKEN);

  const local = await cache.ensure(sha, fetch);
  assert.equal(local, join(dir, `${sha}.img`));
  assert.deepEqual(await readFile(local), data);
  assert.deepEqual(
    cache.entries().map(({ sha256, bytes, users }) => ({ sha256, bytes, users })),
    [{ sha256: sha, bytes: data.byteLength, users: 0 }],
  );

  assert.equal(await cache.ensure(sha, fetch), local);
  assert.equal(server.requests(path), 1, 'the cached copy was used');
  await cache.flush();
  assert.deepEqual(await filesIn(dir), [`${sha}.img`, 'index.json']);
});

test('content that does not hash to the requested sha256 is refused with ChecksumMismatch and nothing is cached', async (t) => {
  const dir = await tempDir(t);
  const cache = await openCache({ dir, limitBytes: 10_000 });
  const wanted = Buffer.from('the image that was asked for');
  const sha = sha256Of(wanted);
  const served = Buffer.from('something else entirely');
  // The store serves the wrong bytes under the requested id.
  const path = server.put(served, `corrupt-${sha}`);

  const err = await cache.ensure(sha, () => fetchBlob(server.url(path), TOKEN)).then(
    () => assert.fail('a mismatching blob was accepted'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ChecksumMismatch, String(err));
  assert.equal(err.expected, sha);
  assert.equal(err.actual, sha256Of(served));
  assert.match(err.message, new RegExp(`expected ${sha}.*${sha256Of(served)}.*nothing was cached`, 's'));
  assert.deepEqual(cache.entries(), []);
  await cache.flush();
  assert.deepEqual(await filesIn(dir), [], 'no image, no partial download, no index');

  // The failure is not remembered: once the store is right, the same id caches.
  server.put(wanted, `corrupt-${sha}`);
  assert.deepEqual(await readFile(await cache.ensure(sha, () => fetchBlob(server.url(path), TOKEN))), wanted);
});

test('concurrent ensures of one image share one download, and each acquire asked for is counted', async (t) => {
  const dir = await tempDir(t);
  const cache = await openCache({ dir, limitBytes: 10_000 });
  const data = blob(7, 4096);
  const sha = sha256Of(data);
  const path = server.put(data);
  const fetch = () => fetchBlob(server.url(path), TOKEN);

  const open = server.hold();
  const calls = [0, 1, 2, 3, 4].map((i) => cache.ensure(sha, fetch, { acquire: i < 3 }));
  open();
  const paths = await Promise.all(calls);

  assert.equal(server.requests(path), 1);
  assert.deepEqual(new Set(paths), new Set([join(dir, `${sha}.img`)]));
  assert.equal(cache.entries()[0]!.users, 3);
});

test('a failed shared download fails every caller, caches nothing, and a later ensure downloads again', async (t) => {
  const dir = await tempDir(t);
  const cache = await openCache({ dir, limitBytes: 10_000 });
  const data = blob(8, 1000);
  const sha = sha256Of(data);
  let fetches = 0;
  const broken = async () => {
    fetches++;
    return (async function* () {
      yield data.subarray(0, 300);
      throw new Error('connection reset mid-blob');
    })();
  };
  const results = await Promise.allSettled([cache.ensure(sha, broken, { acquire: true }), cache.ensure(sha, broken, { acquire: true })]);
  assert.equal(fetches, 1);
  for (const r of results) assert.match(r.status === 'rejected' ? String(r.reason) : 'fulfilled', /connection reset mid-blob/);
  assert.deepEqual(cache.entries(), []);
  await cache.flush();
  assert.deepEqual(await filesIn(dir), [], 'the partial download was removed');

  await cache.ensure(sha, fromMemory(data), { acquire: true });
  assert.deepEqual(
    cache.entries().map((e) => e.users),
    [1],
    'the failed attempt left no stray uses behind',
  );
});

test('eviction removes the least recently used image, where use includes cache hits and acquire', async (t) => {
  const dir = await tempDir(t);
  const cache = await openCache({ dir, limitBytes: 300, now: counter() });
  const [a, b, c, d, e] = [1, 2, 3, 4, 5].map((s) => blob(s));
  const [A, B, C, D, E] = [a, b, c, d, e].map((x) => sha256Of(x!));
  for (const x of [a, b, c]) await put(cache, x!);
  await put(cache, a!); // a hit: A is now the most recent
  assert.deepEqual(order(cache), [B, C, A]);

  await put(cache, d!);
  assert.deepEqual(order(cache), [C, A, D], 'B, least recently used, went first');

  cache.acquire(C);
  cache.release(C);
  await put(cache, e!);
  assert.deepEqual(order(cache), [D, C, E], 'A went, since acquiring C counted as a use');
  await cache.flush();
  assert.deepEqual(await filesIn(dir), [...[C, D, E].map((s) => `${s}.img`)].sort().concat('index.json').sort());
});

test('eviction skips images in use, even the least recently used', async (t) => {
  const dir = await tempDir(t);
  const cache = await openCache({ dir, limitBytes: 300, now: counter() });
  const [a, b, c, d] = [1, 2, 3, 4].map((s) => blob(s));
  const [A, B, C, D] = [a, b, c, d].map((x) => sha256Of(x!));
  await put(cache, a!, true);
  await put(cache, b!);
  await put(cache, c!);
  assert.deepEqual(order(cache), [A, B, C]);
  await put(cache, d!);
  assert.deepEqual(order(cache), [A, C, D], 'A is in use, so B went instead');
  assert.deepEqual(await readFile(join(dir, `${A}.img`)), a);
  await cache.flush();
  assert.ok(!(await filesIn(dir)).includes(`${B}.img`));
});

test('with everything in use the cache stays over its limit, says so, and shrinks once images are released', async (t) => {
  const dir = await tempDir(t);
  const cache = await openCache({ dir, limitBytes: 250, now: counter() });
  const images = [1, 2, 3, 4].map((s) => blob(s));
  const ids = images.map(sha256Of);
  for (const x of images) await put(cache, x, true);
  assert.equal(cache.totalBytes(), 400);
  assert.equal(cache.overLimitBytes(), 150);
  await cache.flush();
  assert.equal((await filesIn(dir)).filter((f) => f.endsWith('.img')).length, 4, 'no image in use was deleted');

  cache.release(ids[1]!);
  assert.deepEqual(order(cache), [ids[0], ids[2], ids[3]], 'the released image was the only one that could go');
  assert.equal(cache.overLimitBytes(), 50);
  cache.release(ids[0]!);
  cache.release(ids[3]!);
  // Released last, 3 is the most recent; 0 goes, and the total fits again.
  assert.deepEqual(order(cache), [ids[2], ids[3]]);
  assert.equal(cache.overLimitBytes(), 0);
});

test('an image larger than the whole limit is usable while in use and goes when released', async (t) => {
  const dir = await tempDir(t);
  const cache = await openCache({ dir, limitBytes: 100, now: counter() });
  const small = blob(1, 50);
  const big = blob(2, 500);
  await put(cache, small);
  const path = await put(cache, big, true);
  assert.deepEqual(await readFile(path), big);
  assert.deepEqual(order(cache), [sha256Of(big)], 'the small unused image made what room it could');
  assert.equal(cache.overLimitBytes(), 400);

  cache.release(sha256Of(big));
  assert.deepEqual(cache.entries(), []);
  await cache.flush();
  assert.deepEqual(await filesIn(dir), ['index.json']);
});

test('an oversized image ensured without acquire survives its own insertion, for its caller to acquire', async (t) => {
  const dir = await tempDir(t);
  const cache = await openCache({ dir, limitBytes: 100 });
  const big = blob(2, 500);
  const path = await put(cache, big);
  cache.acquire(sha256Of(big));
  assert.deepEqual(await readFile(path), big);
});

test('after a restart the cache keeps its images and their LRU order, and removes leftovers of interrupted work', async (t) => {
  const dir = await tempDir(t);
  const clock = counter();
  const first = await openCache({ dir, limitBytes: 1000, now: clock });
  const [a, b, c, d] = [1, 2, 3, 4].map((s) => blob(s));
  const [A, B, C, D] = [a, b, c, d].map((x) => sha256Of(x!));
  for (const x of [a, b, c]) await put(first, x!);
  first.acquire(A);
  first.release(A);
  await first.flush();
  const before = first.entries();
  assert.deepEqual(order(first), [B, C, A]);

  // What a crash leaves: a half-downloaded blob, a half-written index, and an image renamed into
  // place whose index write never happened.
  await writeFile(join(dir, `${D}.4242.1.partial`), d!.subarray(0, 10));
  await writeFile(join(dir, 'index.json.4242.2.tmp'), '{"version":1,"entr');
  await writeFile(join(dir, `${D}.img`), d!);

  const second = await openCache({ dir, limitBytes: 1000, now: clock });
  assert.deepEqual(order(second), [B, C, A, D], 'the unindexed image counts as the most recent');
  assert.deepEqual(second.entries().slice(0, 3), before, 'sizes and times of use are as they were');
  await second.flush();
  assert.deepEqual(await filesIn(dir), [...[A, B, C, D].map((s) => `${s}.img`), 'index.json'].sort());

  // An image whose file was lost is forgotten rather than handed out.
  await rm(join(dir, `${C}.img`));
  const third = await openCache({ dir, limitBytes: 1000, now: clock });
  assert.deepEqual(order(third), [B, A, D]);
});

test('a damaged index costs only recency: the images are still found', async (t) => {
  const dir = await tempDir(t);
  const first = await openCache({ dir, limitBytes: 1000 });
  const images = [1, 2].map((s) => blob(s));
  for (const x of images) await put(first, x);
  await first.flush();
  await writeFile(join(dir, 'index.json'), 'not json');
  const second = await openCache({ dir, limitBytes: 1000 });
  assert.deepEqual(new Set(order(second)), new Set(images.map(sha256Of)));
});

test('bad arguments are refused with errors that say what was wrong', async (t) => {
  const dir = await tempDir(t);
  const cache = await openCache({ dir, limitBytes: 1000 });
  const data = blob(1);
  const sha = sha256Of(data);
  for (const bad of ['', 'abc', sha.toUpperCase(), `${sha}0`, `sha256:${sha}`, '../../etc/passwd']) {
    await assert.rejects(cache.ensure(bad, fromMemory(data)), { name: 'TypeError', message: /64 lowercase hex digits/ }, bad);
    assert.throws(() => cache.acquire(bad), /64 lowercase hex digits/);
  }
  assert.throws(() => cache.acquire(sha), /not in the cache; ensure it first/);
  await put(cache, data);
  assert.throws(() => cache.release(sha), /released more often than acquired/);
  await assert.rejects(ImageCache.open({ dir, limitBytes: -1 }), RangeError);
});

// The model: images in recency order with their use counts, evicting as the cache should.
interface ModelEntry {
  sha: string;
  bytes: number;
  users: number;
}

const LIMIT = 1000;

const opArb = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('ensure' as const), image: fc.nat(5), acquire: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('acquire' as const), image: fc.nat(5) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('release' as const), image: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const) }) },
);

// Mostly images that fit, some that do not fit at all.
const sizesArb = fc.array(fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: 600 }) }, { weight: 1, arbitrary: fc.integer({ min: 1001, max: 1500 }) }), {
  minLength: 6,
  maxLength: 6,
});

test('against a model, over random ensure/acquire/release/restart: images in use are never evicted and unused images fit the limit', async (t) => {
  const root = await tempDir(t);
  let run = 0;
  await fc.assert(
    fc.asyncProperty(sizesArb, fc.array(opArb, { maxLength: 30 }), async (sizes, ops) => {
      const dir = join(root, `run-${run++}`);
      const images = sizes.map((bytes, i) => blob(i + 1, bytes));
      const ids = images.map(sha256Of);
      let cache = await openCache({ dir, limitBytes: LIMIT, now: counter() });
      let model: ModelEntry[] = [];
      const find = (sha: string) => model.find((e) => e.sha === sha);
      const use = (e: ModelEntry) => (model = [...model.filter((x) => x !== e), e]);
      const evict = (keep?: string) => {
        let total = model.reduce((s, e) => s + e.bytes, 0);
        model = model.filter((e) => {
          if (total <= LIMIT || e.users > 0 || e.sha === keep) return true;
          total -= e.bytes;
          return false;
        });
      };

      // Eviction happens on insertion and release only. Since the last one: the image it kept for a
      // caller yet to acquire it, and whether a restart (which forgets uses, and never evicts) came after.
      let kept: string | undefined;
      let evictedSinceRestart = true;
      for (const [step, op] of ops.entries()) {
        const before = model.map((e) => ({ ...e }));
        if (op.kind === 'ensure') {
          const sha = ids[op.image]!;
          await cache.ensure(sha, fromMemory(images[op.image]!), { acquire: op.acquire });
          const hit = find(sha);
          if (hit) {
            if (op.acquire) hit.users++;
            use(hit);
          } else {
            model.push({ sha, bytes: images[op.image]!.byteLength, users: op.acquire ? 1 : 0 });
            evict(sha);
            kept = sha;
            evictedSinceRestart = true;
          }
        } else if (op.kind === 'acquire') {
          const e = find(ids[op.image]!);
          if (e) {
            cache.acquire(e.sha);
            e.users++;
            use(e);
          } else assert.throws(() => cache.acquire(ids[op.image]!), /not in the cache/);
        } else if (op.kind === 'release') {
          const e = find(ids[op.image]!);
          if (e && e.users > 0) {
            cache.release(e.sha);
            e.users--;
            use(e);
            evict();
            kept = undefined;
            evictedSinceRestart = true;
          } else assert.throws(() => cache.release(ids[op.image]!));
        } else {
          await cache.flush();
          cache = await openCache({ dir, limitBytes: LIMIT, now: counter() });
          model = model.map((e) => ({ ...e, users: 0 }));
          evictedSinceRestart = false;
        }

        const where = `after step ${step} (${JSON.stringify(op)})`;
        assert.deepEqual(
          cache.entries().map((e) => ({ sha: e.sha256, bytes: e.bytes, users: e.users })),
          model,
          where,
        );
        for (const e of before) {
          const stillInUse = e.users > (op.kind === 'release' && ids[op.image] === e.sha ? 1 : 0);
          if (stillInUse && op.kind !== 'restart') assert.ok(find(e.sha), `an image in use was evicted ${where}`);
        }
        if (evictedSinceRestart) {
          const unused = model.filter((e) => e.users === 0);
          const unusedBytes = unused.reduce((s, e) => s + e.bytes, 0);
          // The one exception: an image bigger than the limit, kept for the caller who ensured it.
          const onlyKept = unused.length === 1 && unused[0]!.sha === kept;
          assert.ok(unusedBytes <= LIMIT || onlyKept, `unused images take ${unusedBytes} bytes > ${LIMIT} ${where}`);
          if (unused.some((e) => e.sha !== kept)) assert.ok(cache.totalBytes() <= LIMIT, `over the limit with evictable images ${where}`);
        }
      }

      await cache.flush();
      const files = (await readdir(dir)).filter((f) => f !== 'index.json').sort();
      assert.deepEqual(files, model.map((e) => `${e.sha}.img`).sort(), 'the files on disk are exactly the cached images');
      await rm(dir, { recursive: true, force: true });
    }),
    { numRuns: 100 },
  );
});
