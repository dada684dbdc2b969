/**
 * Adds `bonus[i]` to the score of `hits[i]` for the top `bonus.length` hits and re-sorts those by
 * score, highest first; ties keep their order (Array.prototype.sort is stable) and the hits below
 * keep their places. How every Search evidence stage (src/text/, src/color/) applies its scores.
 */
export function rescoreTop<H extends { score: number }>(hits: H[], bonus: readonly number[]): void {
  const top = hits.slice(0, bonus.length);
  top.forEach((h, i) => (h.score += bonus[i]));
  top.sort((a, b) => b.score - a.score);
  hits.splice(0, top.length, ...top);
}
