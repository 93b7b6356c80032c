/**
 * A byte buffer that JSON text is written into piece by piece, as UTF-8: the schedule export of a
 * whole SDSC log is 150 MB, and building it as JavaScript strings first cost more than writing it
 * (concatenated strings are flattened, then encoded, before a byte reaches the file). Full, the
 * buffer is handed to `flush` and reused; without a `flush` it grows instead.
 *
 * The buffer begins with a dictionary, bytes given once and copied from often: bytes [i, j) of it
 * are at [i, j) of the buffer `reserve` returns, for its copyWithin. A copy within one buffer needs
 * no view of the source made first, which, for the 540,000 runs of node ids in a whole log's
 * export, cost as much as the copies.
 */
export class JsonBytes {
  private buf: Uint8Array;
  /** Where the text begins, after the dictionary. */
  private readonly start: number;
  /** Where the next byte goes: moved by the writer that asked for room with `reserve`. */
  pos: number;

  constructor(size: number, private readonly flush: ((bytes: Uint8Array) => void) | null = null, dictionary: Uint8Array = new Uint8Array(0)) {
    this.start = dictionary.length;
    this.pos = this.start;
    this.buf = new Uint8Array(this.start + size);
    this.buf.set(dictionary);
  }

  /** Bytes written since the last flush or clear. */
  get length(): number {
    return this.pos - this.start;
  }

  /** The bytes written since the last flush or clear, as UTF-8 text, leaving `drop` bytes off the end. */
  toString(drop = 0): string {
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + this.start, this.pos - this.start - drop).toString('utf8');
  }

  /** A copy of the bytes written since the last flush or clear. */
  bytes(): Uint8Array {
    return this.buf.slice(this.start, this.pos);
  }

  clear(): void {
    this.pos = this.start;
  }

  /** Hands what is left to `flush`. */
  end(): void {
    if (this.flush !== null && this.pos > this.start) this.flush(this.buf.subarray(this.start, this.pos));
    this.pos = this.start;
  }

  /**
   * The buffer, with room for `n` bytes from `pos`: a writer of many short pieces asks once, puts
   * them (putBytes, putNum), and sets `pos` after them.
   */
  reserve(n: number): Uint8Array {
    this.room(n);
    return this.buf;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.flush !== null && this.pos > this.start) {
      this.flush(this.buf.subarray(this.start, this.pos));
      this.pos = this.start;
      if (this.pos + n <= this.buf.length) return;
    }
    const bigger = new Uint8Array(Math.max(2 * this.buf.length, this.pos + n));
    bigger.set(this.buf.subarray(0, this.pos));
    this.buf = bigger;
  }

  /** Bytes that are JSON already (a literal of the format, encoded once). */
  lit(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.pos = putBytes(this.buf, this.pos, bytes);
  }

  /** Text that is JSON already (a JSON.stringify result). */
  text(s: string): void {
    this.room(3 * s.length);
    const b = this.buf;
    const start = this.pos;
    let p = start;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      // Rare (JSON.stringify leaves non-ASCII characters as they are): Buffer's own encoder then.
      if (c >= 0x80) {
        this.pos = start + Buffer.from(b.buffer, b.byteOffset, b.length).write(s, start, 'utf8');
        return;
      }
      b[p++] = c;
    }
    this.pos = p;
  }

  /** A string as JSON.stringify writes it; one with nothing to escape and only ASCII, nearly every id, byte by byte. */
  str(s: string): void {
    this.room(s.length + 2);
    const b = this.buf;
    const start = this.pos;
    let p = start;
    b[p++] = 0x22;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x80) {
        this.pos = start;
        this.text(JSON.stringify(s));
        return;
      }
      b[p++] = c;
    }
    b[p++] = 0x22;
    this.pos = p;
  }

  num(x: number): void {
    this.room(NUM_ROOM);
    this.pos = putNum(this.buf, this.pos, x);
  }
}

/** Bytes `src` at `b[p]`, where there is room; returns the position after them. */
export function putBytes(b: Uint8Array, p: number, src: Uint8Array): number {
  for (let i = 0; i < src.length; i++) b[p++] = src[i];
  return p;
}

/** Room enough for putNum: a number's text is at most 25 characters (-0.0000012345678901234567). */
export const NUM_ROOM = 32;

/**
 * A number as JSON.stringify writes it at `b[p]`, where there is room for NUM_ROOM bytes; returns
 * the position after it. Integers below 2^31, nearly all of them, are written two digits at a time.
 */
export function putNum(b: Uint8Array, p: number, x: number): number {
  // (x | 0) === x also lets -0 through, which JSON.stringify writes 0, as this does.
  if (x < 0 || (x | 0) !== x) {
    const text = Number.isFinite(x) ? `${x}` : 'null';
    for (let i = 0; i < text.length; i++) b[p++] = text.charCodeAt(i);
    return p;
  }
  const end = p + digitCount(x);
  p = end;
  while (x >= 100) {
    const q = (x / 100) | 0;
    const pair = 2 * (x - 100 * q);
    b[--p] = PAIRS[pair + 1];
    b[--p] = PAIRS[pair];
    x = q;
  }
  if (x >= 10) {
    b[p - 1] = PAIRS[2 * x + 1];
    b[p - 2] = PAIRS[2 * x];
  } else b[p - 1] = 0x30 + x;
  return end;
}

/** "00" to "99", as bytes. */
const PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  PAIRS[2 * i] = 0x30 + Math.floor(i / 10);
  PAIRS[2 * i + 1] = 0x30 + (i % 10);
}

function digitCount(x: number): number {
  if (x < 1e5) return x < 10 ? 1 : x < 100 ? 2 : x < 1e3 ? 3 : x < 1e4 ? 4 : 5;
  return x < 1e6 ? 6 : x < 1e7 ? 7 : x < 1e8 ? 8 : x < 1e9 ? 9 : 10;
}
