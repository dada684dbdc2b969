import type { MetadataFilter } from './catalog-index.js';

/**
 * An inverted index of metadata: for each `key=value`, the vector keys whose metadata has it. It
 * tells, before searching, how many items a filter can match at most, so a rare filter is
 * answered by an exact scan of its matches instead of hoping an ANN search over-fetches enough.
 */
export class MetadataPostings {
  private readonly postings = new Map<string, Set<string>>();

  private static term(key: string, value: string): string {
    return `${key}\u0000${value}`;
  }

  add(vectorKey: string, metadata: Record<string, string>): void {
    for (const [k, v] of Object.entries(metadata)) {
      const t = MetadataPostings.term(k, v);
      let set = this.postings.get(t);
      if (!set) this.postings.set(t, (set = new Set()));
      set.add(vectorKey);
    }
  }

  remove(vectorKey: string, metadata: Record<string, string>): void {
    for (const [k, v] of Object.entries(metadata)) {
      const t = MetadataPostings.term(k, v);
      const set = this.postings.get(t);
      if (!set) continue;
      set.delete(vectorKey);
      if (set.size === 0) this.postings.delete(t);
    }
  }

  /** The smallest posting list among the filter's terms: a superset of the matches (empty when a term has none). */
  smallestFor(filter: MetadataFilter): ReadonlySet<string> {
    let best: Set<string> | undefined;
    for (const [k, v] of Object.entries(filter)) {
      const set = this.postings.get(MetadataPostings.term(k, v));
      if (!set) return new Set();
      if (!best || set.size < best.size) best = set;
    }
    return best ?? new Set();
  }
}
