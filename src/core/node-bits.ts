/**
 * A set of node indices as bits, 32 to a word, with its size kept: what lets a question about a
 * pool of 1,152 nodes be asked of 36 words ("which nodes are empty and not full now") instead of
 * node by node.
 */
export class NodeBits {
  private bits = new Int32Array(1);
  private count = 0;

  /** How many nodes are in the set. */
  get size(): number {
    return this.count;
  }

  /** How many words hold the set's bits (bits past the last node index are 0). */
  get wordCount(): number {
    return this.bits.length;
  }

  /** Word w: bit b set when node 32w + b is in the set; 0 past the end. */
  word(w: number): number {
    return w < this.bits.length ? this.bits[w] : 0;
  }

  has(n: number): boolean {
    return (this.word(n >> 5) & (1 << (n & 31))) !== 0;
  }

  add(n: number): void {
    const w = n >> 5;
    if (w >= this.bits.length) this.growTo(w + 1);
    const bit = 1 << (n & 31);
    if ((this.bits[w] & bit) !== 0) return;
    this.bits[w] |= bit;
    this.count++;
  }

  delete(n: number): void {
    const w = n >> 5;
    if (w >= this.bits.length) return;
    const bit = 1 << (n & 31);
    if ((this.bits[w] & bit) === 0) return;
    this.bits[w] &= ~bit;
    this.count--;
  }

  /** The first node at or after `from`, by index, in the set; -1 if none. */
  next(from: number): number {
    const bits = this.bits;
    let w = from >> 5;
    if (w >= bits.length) return -1;
    let word = bits[w] & (-1 << (from & 31));
    for (;;) {
      if (word !== 0) return (w << 5) + lowestBit(word);
      if (++w >= bits.length) return -1;
      word = bits[w];
    }
  }

  private growTo(words: number): void {
    let length = this.bits.length;
    while (length < words) length *= 2;
    const bits = new Int32Array(length);
    bits.set(this.bits);
    this.bits = bits;
  }
}

/** The index of the lowest set bit of a non-zero word. */
export function lowestBit(word: number): number {
  return 31 - Math.clz32(word & -word);
}

/** How many bits of a word are set. */
export function bitCount(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}
