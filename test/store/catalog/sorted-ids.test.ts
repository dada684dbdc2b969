/** SortedIds: pages in id order from one sort, kept in order through adds and removes. */
import { SortedIds } from '../../../src/store/catalog/sorted-ids.js';
import { createRng } from '../../../src/simulate/index.js';

function walk(ids: SortedIds, pageSize: number): string[] {
  const out: string[] = [];
  let after = '';
  for (;;) {
    const page = ids.page(after, pageSize);
    out.push(...page.ids);
    if (!page.more) return out;
    after = page.ids[page.ids.length - 1];
  }
}

describe('SortedIds', () => {
  test('pages every id once, in order, reading the source once however many pages and writes', () => {
    const held = new Set(['m', 'c', 'x', 'a', 'q']);
    let reads = 0;
    const ids = new SortedIds(() => {
      reads++;
      return held;
    });
    expect(walk(ids, 2)).toEqual(['a', 'c', 'm', 'q', 'x']);
    for (const id of ['b', 'z', 'n']) {
      held.add(id);
      ids.add(id);
    }
    held.delete('m');
    ids.remove('m');
    ids.remove('not-there');
    ids.add('a'); // already there: no duplicate
    expect(walk(ids, 3)).toEqual(['a', 'b', 'c', 'n', 'q', 'x', 'z']);
    expect(reads).toBe(1);
  });

  test('a page starts after `afterId` whether or not it is (still) there; `more` is exact', () => {
    const ids = new SortedIds(() => ['b', 'd', 'f']);
    expect(ids.page('', 3)).toEqual({ ids: ['b', 'd', 'f'], more: false });
    expect(ids.page('', 2)).toEqual({ ids: ['b', 'd'], more: true });
    expect(ids.page('b', 1)).toEqual({ ids: ['d'], more: true });
    expect(ids.page('c', 5)).toEqual({ ids: ['d', 'f'], more: false });
    expect(ids.page('f', 5)).toEqual({ ids: [], more: false });
    expect(ids.page('zz', 5)).toEqual({ ids: [], more: false });
  });

  test('invalidate rebuilds the order from the source at the next page', () => {
    let source = ['b', 'a'];
    const ids = new SortedIds(() => source);
    expect(ids.page('', 10).ids).toEqual(['a', 'b']);
    source = ['d', 'c'];
    expect(ids.page('', 10).ids).toEqual(['a', 'b']);
    ids.invalidate();
    expect(ids.page('', 10).ids).toEqual(['c', 'd']);
  });

  test('random adds and removes keep the order equal to a fresh sort', () => {
    const rng = createRng(5);
    const held = new Set<string>();
    const ids = new SortedIds(() => held);
    ids.page('', 1); // build (empty)
    for (let i = 0; i < 2000; i++) {
      const id = `id-${Math.floor(rng() * 500)}`;
      if (rng() < 0.6) {
        held.add(id);
        ids.add(id);
      } else {
        held.delete(id);
        ids.remove(id);
      }
    }
    expect(walk(ids, 7)).toEqual([...held].sort());
  });
});
