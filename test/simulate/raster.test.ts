import { compose, rotate, scale, translate } from '../../src/simulate/homography.js';
import { coveredBox, createLayer, drawSprite, type RgbaImage } from '../../src/simulate/raster.js';
import { coveredFraction } from '../../src/simulate/scene.js';

/** An opaque 12 x 8 sprite with a transparent hole, so coverage has soft and empty parts. */
function sprite(): RgbaImage {
  const data = new Float32Array(12 * 8 * 4);
  for (let i = 0; i < 12 * 8; i++) {
    const hole = i % 12 > 4 && i % 12 < 7 && i >= 36;
    data.set(hole ? [0, 0, 0, 0] : [200, 100, 50, 255], i * 4);
  }
  return { width: 12, height: 8, data };
}

const placed = compose(translate(-6, -4), rotate(0.4), scale(3), translate(30, 22));

describe('drawSprite with a clip, coverage only', () => {
  it('writes the same coverage as a full draw inside the clip, and nothing else', () => {
    const full = createLayer(60, 40);
    drawSprite(full, sprite(), placed);
    const clip = { x0: 20, y0: 15, x1: 38, y1: 30 };
    const part = createLayer(60, 40);
    drawSprite(part, sprite(), placed, 1, undefined, clip, true);
    let inside = 0;
    for (let y = 0; y < 40; y++) {
      for (let x = 0; x < 60; x++) {
        const i = y * 60 + x;
        const within = x >= clip.x0 && x <= clip.x1 && y >= clip.y0 && y <= clip.y1;
        expect(part.alpha[i]).toBe(within ? full.alpha[i] : 0);
        if (within && (full.alpha[i] as number) > 0) inside++;
      }
    }
    expect(inside).toBeGreaterThan(50);
    expect(part.rgb.every((v) => v === 0)).toBe(true);
    expect(full.rgb.some((v) => v > 0)).toBe(true);
  });
});

describe('coveredBox and coveredFraction', () => {
  it('finds the box of all coverage; the fraction read inside it is the fraction over the whole layer', () => {
    const main = createLayer(60, 40);
    drawSprite(main, sprite(), placed);
    const box = coveredBox(main)!;
    for (let i = 0; i < main.alpha.length; i++) {
      const x = i % 60;
      const y = Math.floor(i / 60);
      if ((main.alpha[i] as number) > 0) expect(x >= box.x0 && x <= box.x1 && y >= box.y0 && y <= box.y1).toBe(true);
    }
    // Tight: each side of the box touches some coverage.
    const covered = (x: number, y: number): boolean => (main.alpha[y * 60 + x] as number) > 0;
    const span = (n: number) => Array.from({ length: n }, (_, k) => k);
    expect(span(60).some((x) => covered(x, box.y0)) && span(60).some((x) => covered(x, box.y1))).toBe(true);
    expect(span(40).some((y) => covered(box.x0, y)) && span(40).some((y) => covered(box.x1, y))).toBe(true);
    expect(box.x1 - box.x0).toBeLessThan(59);
    const occ = createLayer(60, 40);
    drawSprite(occ, sprite(), compose(placed, translate(9, 4)));
    const whole = coveredFraction(main, occ);
    expect(whole).toBeGreaterThan(0.05);
    expect(whole).toBeLessThan(0.95);
    expect(coveredFraction(main, occ, box)).toBe(whole);
    expect(coveredBox(createLayer(10, 10))).toBeNull();
  });
});
