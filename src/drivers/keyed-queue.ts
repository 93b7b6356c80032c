// Operations on one VM run one after another, operations on different VMs side by side: a start
// still in flight must not race the stop that follows it. A driver keeps one of these.

export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `op` after every earlier operation on `key` has settled; `before` runs first (a closed driver refuses there). */
  run<T>(key: string, op: () => Promise<T>, before?: () => void): Promise<T> {
    const result = (this.tails.get(key) ?? Promise.resolve()).then(() => {
      before?.();
      return op();
    });
    const tail = result.then(() => {}, () => {});
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Whether an operation on `key` is queued or running. */
  busy(key: string): boolean {
    return this.tails.has(key);
  }

  /** Settles once everything queued now has settled. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.tails.values()]);
  }
}
