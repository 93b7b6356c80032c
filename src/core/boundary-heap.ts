/** A binary min-heap of (time, order, payload), ordered by time then order then insertion. */
export class BoundaryHeap<T> {
  private times: number[] = [];
  private orders: number[] = [];
  private seqs: number[] = [];
  private items: T[] = [];
  private counter = 0;

  get size(): number {
    return this.items.length;
  }

  push(time: number, order: number, item: T): void {
    this.times.push(time);
    this.orders.push(order);
    this.seqs.push(this.counter++);
    this.items.push(item);
    this.up(this.items.length - 1);
  }

  peek(): T | undefined {
    return this.items[0];
  }

  peekTime(): number {
    return this.items.length === 0 ? Infinity : this.times[0];
  }

  pop(): T | undefined {
    const n = this.items.length;
    if (n === 0) return undefined;
    const top = this.items[0];
    this.move(n - 1, 0);
    this.times.pop();
    this.orders.pop();
    this.seqs.pop();
    this.items.pop();
    if (this.items.length > 0) this.down(0);
    return top;
  }

  private less(a: number, b: number): boolean {
    return this.times[a] < this.times[b] || (this.times[a] === this.times[b] &&
      (this.orders[a] < this.orders[b] || (this.orders[a] === this.orders[b] && this.seqs[a] < this.seqs[b])));
  }

  private move(from: number, to: number): void {
    this.times[to] = this.times[from];
    this.orders[to] = this.orders[from];
    this.seqs[to] = this.seqs[from];
    this.items[to] = this.items[from];
  }

  private swap(a: number, b: number): void {
    const t = this.times[a]; this.times[a] = this.times[b]; this.times[b] = t;
    const o = this.orders[a]; this.orders[a] = this.orders[b]; this.orders[b] = o;
    const s = this.seqs[a]; this.seqs[a] = this.seqs[b]; this.seqs[b] = s;
    const i = this.items[a]; this.items[a] = this.items[b]; this.items[b] = i;
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.items.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
