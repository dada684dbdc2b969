/** Keeps the k largest scores offered (a binary min-heap on score). */
export class TopK<T> {
  private items: T[] = [];
  private scores: number[] = [];

  constructor(private readonly k: number) {}

  get size(): number {
    return this.items.length;
  }

  /** The smallest score kept, or -Infinity while fewer than k are kept. */
  get floor(): number {
    return this.items.length < this.k ? -Infinity : this.scores[0];
  }

  offer(item: T, score: number): void {
    if (this.k <= 0) return;
    if (this.items.length < this.k) {
      this.items.push(item);
      this.scores.push(score);
      this.siftUp(this.items.length - 1);
    } else if (score > this.scores[0]) {
      this.items[0] = item;
      this.scores[0] = score;
      this.siftDown(0);
    }
  }

  /** [item, score] pairs, best first. */
  sorted(): [T, number][] {
    return this.items.map((it, i): [T, number] => [it, this.scores[i]]).sort((a, b) => b[1] - a[1]);
  }

  private swap(i: number, j: number): void {
    [this.items[i], this.items[j]] = [this.items[j], this.items[i]];
    [this.scores[i], this.scores[j]] = [this.scores[j], this.scores[i]];
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.scores[p] <= this.scores[i]) return;
      this.swap(i, p);
      i = p;
    }
  }

  private siftDown(i: number): void {
    const n = this.items.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.scores[l] < this.scores[m]) m = l;
      if (r < n && this.scores[r] < this.scores[m]) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
