/**
 * Ids in ascending order (JavaScript string order, the order of `<`), for paging through a
 * catalog without sorting it per page. The order is built from `source` on first use and then
 * kept: an id added or removed moves the ids after it (binary search, then one splice), and a
 * large batch drops the order instead, to be rebuilt once by the next page.
 */
export class SortedIds {
  private sorted?: string[];

  /** `source`: every id, in any order; read when the order is (re)built. */
  constructor(private readonly source: () => Iterable<string>) {}

  /** Notes a new id (an id already present is left alone). */
  add(id: string): void {
    if (!this.sorted) return;
    const i = firstAtOrAfter(this.sorted, id);
    if (this.sorted[i] !== id) this.sorted.splice(i, 0, id);
  }

  /** Notes a removed id. */
  remove(id: string): void {
    if (!this.sorted) return;
    const i = firstAtOrAfter(this.sorted, id);
    if (this.sorted[i] === id) this.sorted.splice(i, 1);
  }

  /** Forgets the order (after a batch too large to splice in, or when `source` changed wholesale). */
  invalidate(): void {
    this.sorted = undefined;
  }

  /** At most `limit` ids greater than `afterId`, in order, and whether more follow. */
  page(afterId: string, limit: number): { ids: string[]; more: boolean } {
    this.sorted ??= [...this.source()].sort();
    // The first id greater than afterId: at afterId's place, one further when it is there.
    let start = firstAtOrAfter(this.sorted, afterId);
    if (this.sorted[start] === afterId) start++;
    return { ids: this.sorted.slice(start, start + limit), more: start + limit < this.sorted.length };
  }
}

/** Index of the first element of ascending `xs` that is >= `x` (xs.length when none). */
function firstAtOrAfter(xs: readonly string[], x: string): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
