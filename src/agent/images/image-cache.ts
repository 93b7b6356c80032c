// The node agent's cache of base images, content-addressed by sha256.
//
// On disk, in `dir`:
//   <sha256>.img                     a verified base image (only ever renamed into place whole)
//   <sha256>.<pid>.<n>.partial       a download in progress; any found at open are leftovers of a crash
//   index.json                       recency order and sizes, so LRU order survives agent restarts
//   index.json.<pid>.<n>.tmp         an index being written (temp + rename, so a crash never leaves half)
//
// One ImageCache per directory: `open` deletes partial files it finds, which would pull the rug from
// under a second cache downloading into the same directory.
//
// Who uses an image (`users`) is not persisted: after a restart the agent must `acquire` the base of
// every workspace still running before anything new is inserted, or those bases become eviction
// candidates. `open` itself never evicts, for the same reason.

import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open as openFile, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export class ChecksumMismatch extends Error {
  constructor(readonly expected: string, readonly actual: string, readonly bytes: number) {
    super(
      `image content does not match its sha256: expected ${expected}, the ${bytes} bytes received hash to ${actual}; ` +
        'nothing was cached. The store may hold a corrupt blob or the image id may be wrong; check the image in the store, then retry.',
    );
    this.name = 'ChecksumMismatch';
  }
}

export interface CacheEntry {
  sha256: string;
  bytes: number;
  path: string;
  lastUsed: number;
  users: number;
}

export type BlobSource = AsyncIterable<Uint8Array> | NodeJS.ReadableStream;

export interface EnsureOptions {
  /**
   * Take a use of the image as part of the same step that inserts it. Without this, an image is
   * unused between `ensure` resolving and `acquire`, and another insertion in that gap may evict it;
   * an image larger than the whole limit can only be kept this way.
   */
  acquire?: boolean;
}

interface Entry {
  bytes: number;
  lastUsed: number;
  users: number;
}

interface Download {
  promise: Promise<string>;
  /** Callers that asked to acquire; applied in the same synchronous step as the insertion. */
  acquires: number;
}

interface IndexFile {
  version: 1;
  /** Least recently used first. */
  entries: Array<{ sha256: string; bytes: number; lastUsed: number }>;
}

const INDEX = 'index.json';
const SHA256 = /^[0-9a-f]{64}$/;
const IMAGE_FILE = /^([0-9a-f]{64})\.img$/;
const LEFTOVER = /(\.partial|^index\.json\..+\.tmp)$/;

export function checkSha256(sha256: unknown): asserts sha256 is string {
  if (typeof sha256 !== 'string' || !SHA256.test(sha256)) {
    throw new TypeError(`an image id must be a sha256 written as 64 lowercase hex digits, got ${JSON.stringify(sha256)}`);
  }
}

export class ImageCache {
  /** Recency order: a Map iterates in insertion order, so re-inserting on use keeps the LRU entry first. */
  private readonly cached = new Map<string, Entry>();
  private readonly downloads = new Map<string, Download>();
  /** Disk work that must not interleave (renames into place, deletions, index writes), run in order. */
  private tail: Promise<void> = Promise.resolve();
  private indexWriteQueued = false;
  private backgroundErrors: unknown[] = [];
  private tempSeq = 0;

  private constructor(
    readonly dir: string,
    readonly limitBytes: number,
    private readonly now: () => number,
  ) {}

  static async open(opts: { dir: string; limitBytes: number; now?: () => number }): Promise<ImageCache> {
    if (!(opts.limitBytes >= 0)) throw new RangeError(`the image cache limit must be a number of bytes ≥ 0, got ${opts.limitBytes}`);
    await mkdir(opts.dir, { recursive: true });
    const cache = new ImageCache(opts.dir, opts.limitBytes, opts.now ?? Date.now);
    await cache.load();
    return cache;
  }

  private async load(): Promise<void> {
    const onDisk = new Map<string, { bytes: number; mtime: number }>();
    for (const name of await readdir(this.dir)) {
      if (LEFTOVER.test(name)) {
        await rm(join(this.dir, name), { force: true });
        continue;
      }
      const sha = IMAGE_FILE.exec(name)?.[1];
      if (!sha) continue;
      const s = await stat(join(this.dir, name));
      if (s.isFile()) onDisk.set(sha, { bytes: s.size, mtime: s.mtimeMs });
    }
    for (const e of await this.readIndex()) {
      const file = onDisk.get(e.sha256);
      // An indexed image whose file is gone is forgotten; the file's size is the truth.
      if (!file || this.cached.has(e.sha256)) continue;
      this.cached.set(e.sha256, { bytes: file.bytes, lastUsed: e.lastUsed, users: 0 });
    }
    // Images on disk but not in the index were renamed into place just before a crash kept the index
    // from being written: they are the most recent.
    const unindexed = [...onDisk].filter(([sha]) => !this.cached.has(sha)).sort((a, b) => a[1].mtime - b[1].mtime);
    for (const [sha, file] of unindexed) this.cached.set(sha, { bytes: file.bytes, lastUsed: file.mtime, users: 0 });
    if (unindexed.length > 0) this.scheduleIndexWrite();
    await this.flush();
  }

  private async readIndex(): Promise<IndexFile['entries']> {
    let text: string;
    try {
      text = await readFile(join(this.dir, INDEX), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    // A damaged index only costs recency: the images themselves are still found by name.
    try {
      const parsed = JSON.parse(text) as Partial<IndexFile>;
      if (parsed.version !== 1 || !Array.isArray(parsed.entries)) return [];
      return parsed.entries.filter((e) => e && typeof e.sha256 === 'string' && SHA256.test(e.sha256) && Number.isFinite(e.lastUsed));
    } catch {
      return [];
    }
  }

  pathOf(sha256: string): string {
    checkSha256(sha256);
    return join(this.dir, `${sha256}.img`);
  }

  /**
   * The base image with this sha256 on local disk, fetched with `fetch` if not cached. The content is
   * hashed while it streams to a temporary file and renamed into place only if the hash matches.
   * Concurrent calls for the same sha256 share one download.
   *
   * Eviction runs after each insertion and each release. An image just inserted is spared by its own
   * insertion's eviction (its caller has not had the chance to acquire it) but not by later ones, so
   * acquire it at once, or pass `{ acquire: true }` to make it one step.
   */
  async ensure(sha256: string, fetch: () => Promise<BlobSource>, opts: EnsureOptions = {}): Promise<string> {
    checkSha256(sha256);
    const hit = this.cached.get(sha256);
    if (hit) {
      if (opts.acquire) hit.users++;
      this.touch(sha256, hit);
      return this.pathOf(sha256);
    }
    let download = this.downloads.get(sha256);
    if (!download) {
      const started: Download = { promise: Promise.resolve(''), acquires: 0 };
      started.promise = this.download(sha256, fetch, started);
      this.downloads.set(sha256, started);
      download = started;
    }
    if (opts.acquire) download.acquires++;
    return download.promise;
  }

  private async download(sha256: string, fetch: () => Promise<BlobSource>, download: Download): Promise<string> {
    const temp = join(this.dir, `${sha256}.${process.pid}.${++this.tempSeq}.partial`);
    try {
      const { actual, bytes } = await streamToFile(await fetch(), temp);
      if (actual !== sha256) throw new ChecksumMismatch(sha256, actual, bytes);
      return await this.serial(async () => {
        await rename(temp, this.pathOf(sha256));
        // Insert, hand over the uses asked for and evict in one synchronous step, so no other
        // insertion can see this image unused in between.
        this.downloads.delete(sha256);
        this.cached.set(sha256, { bytes, lastUsed: this.now(), users: download.acquires });
        this.evict(sha256);
        this.scheduleIndexWrite();
        return this.pathOf(sha256);
      });
    } catch (e) {
      this.downloads.delete(sha256);
      await rm(temp, { force: true });
      throw e;
    }
  }

  /** A workspace uses this image: it is not evicted while it has users. */
  acquire(sha256: string): void {
    const e = this.mustHave(sha256, 'acquire');
    e.users++;
    this.touch(sha256, e);
  }

  /** A workspace no longer uses this image; if the cache was held over its limit, it shrinks now. */
  release(sha256: string): void {
    const e = this.mustHave(sha256, 'release');
    if (e.users === 0) throw new Error(`image ${sha256} released more often than acquired; each release must match one acquire`);
    e.users--;
    this.touch(sha256, e);
    this.evict();
  }

  /** Cached images, least recently used first. */
  entries(): CacheEntry[] {
    return [...this.cached].map(([sha256, e]) => ({ sha256, bytes: e.bytes, path: this.pathOf(sha256), lastUsed: e.lastUsed, users: e.users }));
  }

  totalBytes(): number {
    let total = 0;
    for (const e of this.cached.values()) total += e.bytes;
    return total;
  }

  /** How far the cache is above its limit, because what would have to go is in use (0 when within it). */
  overLimitBytes(): number {
    return Math.max(0, this.totalBytes() - this.limitBytes);
  }

  /**
   * Waits for deletions and index writes started so far. Rejects with what failed among them since
   * the last flush, since `acquire`/`release` cannot report disk errors themselves.
   */
  async flush(): Promise<void> {
    await this.tail;
    const errors = this.backgroundErrors;
    this.backgroundErrors = [];
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} image cache disk operations failed`);
  }

  private mustHave(sha256: string, action: string): Entry {
    checkSha256(sha256);
    const e = this.cached.get(sha256);
    if (!e) throw new Error(`cannot ${action} image ${sha256}: it is not in the cache; ensure it first`);
    return e;
  }

  private touch(sha256: string, e: Entry): void {
    e.lastUsed = this.now();
    this.cached.delete(sha256);
    this.cached.set(sha256, e);
    this.scheduleIndexWrite();
  }

  /**
   * Drops least recently used images without users until the total fits the limit. Decided
   * synchronously, so the in-memory view is never behind; the files go in the background, in order
   * with any later download of the same image being renamed into place. `keep` is an image just
   * inserted for a caller who has not yet had the chance to acquire it.
   */
  private evict(keep?: string): void {
    let total = this.totalBytes();
    const victims: string[] = [];
    for (const [sha, e] of this.cached) {
      if (total <= this.limitBytes) break;
      if (e.users > 0 || sha === keep) continue;
      this.cached.delete(sha);
      total -= e.bytes;
      victims.push(sha);
    }
    if (victims.length === 0) return;
    this.background(async () => {
      for (const sha of victims) await rm(this.pathOf(sha), { force: true });
    });
    this.scheduleIndexWrite();
  }

  /** One index write per burst of changes: a write not yet started will see all of them. */
  private scheduleIndexWrite(): void {
    if (this.indexWriteQueued) return;
    this.indexWriteQueued = true;
    this.background(async () => {
      this.indexWriteQueued = false;
      const index: IndexFile = { version: 1, entries: [...this.cached].map(([sha256, e]) => ({ sha256, bytes: e.bytes, lastUsed: e.lastUsed })) };
      const temp = join(this.dir, `${INDEX}.${process.pid}.${++this.tempSeq}.tmp`);
      try {
        await writeFile(temp, JSON.stringify(index));
        await rename(temp, join(this.dir, INDEX));
      } catch (e) {
        await rm(temp, { force: true });
        throw e;
      }
    });
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work);
    this.tail = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  private background(work: () => Promise<void>): void {
    this.serial(work).catch((e: unknown) => this.backgroundErrors.push(e));
  }
}

/** Writes the blob to `path`, hashing it on the way; synced, so a file renamed into place is whole. */
async function streamToFile(source: BlobSource, path: string): Promise<{ actual: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  // O_EXCL: a temp name is never reused, so an existing file means something else is writing there.
  const file = await openFile(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  try {
    for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
      if (typeof chunk === 'string') throw new TypeError('an image blob stream yielded text; give a binary stream (no setEncoding)');
      hash.update(chunk);
      bytes += chunk.byteLength;
      let written = 0;
      while (written < chunk.byteLength) written += (await file.write(chunk, written)).bytesWritten;
    }
    await file.sync();
  } finally {
    await file.close();
  }
  return { actual: hash.digest('hex'), bytes };
}
