/** float16 packing of stored local feature maps, against IEEE 754 binary16 bit patterns. */
import { float16Bits, fromFloat16, toFloat16 } from '../../../src/store/catalog/float16.js';

test.each<[number, number]>([
  [0, 0x0000],
  [-0, 0x8000],
  [1, 0x3c00],
  [-2, 0xc000],
  [0.5, 0x3800],
  [65504, 0x7bff], // largest half
  [70000, 0x7c00], // overflow -> +Inf
  [Infinity, 0x7c00],
  [-Infinity, 0xfc00],
  [6.103515625e-5, 0x0400], // smallest normal
  [5.960464477539063e-8, 0x0001], // smallest subnormal
  [2.98e-8, 0x0000], // below half the smallest subnormal -> 0
  [1 + 2 ** -11, 0x3c00], // a tie rounds to even (down)
  [1 + 3 * 2 ** -11, 0x3c02], // a tie rounds to even (up)
  [0.1, 0x2e66],
])('%p packs to 0x%s', (x, bits) => {
  expect(float16Bits(x)).toBe(bits);
});

test('NaN stays NaN', () => {
  expect(fromFloat16(toFloat16(Float32Array.of(NaN)))[0]).toBeNaN();
});

test('round trip keeps values within half-precision error', () => {
  const xs = Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i * 12.9898) * 10 ** ((i % 9) - 4));
  const back = fromFloat16(toFloat16(xs));
  xs.forEach((x, i) => {
    const tol = Math.abs(x) >= 6.1e-5 ? Math.abs(x) * 2 ** -11 : 2 ** -25;
    expect(Math.abs(back[i] - x)).toBeLessThanOrEqual(tol);
  });
});
