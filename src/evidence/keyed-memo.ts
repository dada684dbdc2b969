/**
 * What the Search evidence stages (src/text/, src/color/) keep per catalog image: a value computed
 * once per key (an image's sha256), shared by concurrent callers while it is being computed, and
 * kept in memory up to `maxEntries` (the oldest is dropped first; it is computed again if needed).
 * A failed computation is not kept.
 */
export class KeyedMemo<V> {
  private readonly memory = new Map<string, V>();
  private readonly pending = new Map<string, Promise<V>>();

  constructor(private readonly maxEntries: number) {}

  /** Whether `key`'s value is in memory. */
  has(key: string): boolean {
    return this.memory.has(key);
  }

  /** `key`'s value: from memory, from the computation in progress, or `compute()` now (and kept). */
  get(key: string, compute: () => Promise<V>): Promise<V> {
    if (this.memory.has(key)) return Promise.resolve(this.memory.get(key)!);
    let p = this.pending.get(key);
    if (!p) {
      p = compute()
        .then((value) => {
          if (this.memory.size >= this.maxEntries) this.memory.delete(this.memory.keys().next().value!);
          this.memory.set(key, value);
          return value;
        })
        .finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    return p;
  }

  /** Settles once no computation is in progress (close). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.pending.values()]);
  }
}
