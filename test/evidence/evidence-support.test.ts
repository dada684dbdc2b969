import { KeyedMemo } from '../../src/evidence/keyed-memo.js';
import { rescoreTop } from '../../src/evidence/rescore-top.js';

test('rescoreTop re-sorts the top hits by their new scores, ties in their old order, the rest untouched', () => {
  const hits = [
    { id: 'a', score: 0.9 },
    { id: 'b', score: 0.8 },
    { id: 'c', score: 0.7 },
    { id: 'd', score: 0.95 }, // below the re-scored three: keeps its place
  ];
  rescoreTop(hits, [0, 0.1, 0.2]);
  expect(hits.map((h) => h.id)).toEqual(['a', 'b', 'c', 'd']); // 0.9, 0.9, 0.9: a tie keeps the order
  rescoreTop(hits, [0, 0, 0.05]);
  expect(hits.map((h) => [h.id, +h.score.toFixed(2)])).toEqual([
    ['c', 0.95],
    ['a', 0.9],
    ['b', 0.9],
    ['d', 0.95],
  ]);
});

test('KeyedMemo computes a key once for concurrent callers, keeps at most maxEntries, and does not keep a failure', async () => {
  const memo = new KeyedMemo<number>(2);
  let runs = 0;
  const compute = (v: number) => async () => {
    runs++;
    return v;
  };
  expect(await Promise.all([memo.get('x', compute(1)), memo.get('x', compute(2))])).toEqual([1, 1]);
  expect(runs).toBe(1);
  await memo.get('y', compute(2));
  await memo.get('z', compute(3)); // drops x, the oldest
  expect([memo.has('x'), memo.has('y'), memo.has('z')]).toEqual([false, true, true]);
  await expect(memo.get('w', async () => Promise.reject(new Error('unreadable')))).rejects.toThrow('unreadable');
  expect(memo.has('w')).toBe(false);
  expect(await memo.get('w', compute(4))).toBe(4);
  await memo.settled();
});
