/**
 * 3x3 projective transforms (row-major) mapping source pixel coordinates to frame coordinates.
 */

/** A row-major 3x3 matrix. */
export type Mat3 = readonly [number, number, number, number, number, number, number, number, number];

export const IDENTITY: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

/** `a * b` (apply b first, then a). */
export function multiply(a: Mat3, b: Mat3): Mat3 {
  const r: number[] = [];
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) r.push(a[i * 3]! * b[j]! + a[i * 3 + 1]! * b[3 + j]! + a[i * 3 + 2]! * b[6 + j]!);
  }
  return r as unknown as Mat3;
}

/** Chains transforms: `compose(a, b, c)` applies a, then b, then c. */
export function compose(...ms: Mat3[]): Mat3 {
  return ms.reduce((acc, m) => multiply(m, acc), IDENTITY);
}

export const translate = (tx: number, ty: number): Mat3 => [1, 0, tx, 0, 1, ty, 0, 0, 1];
export const scale = (sx: number, sy: number = sx): Mat3 => [sx, 0, 0, 0, sy, 0, 0, 0, 1];
/** Rotation by `rad`, clockwise on screen (y down). */
export const rotate = (rad: number): Mat3 => [Math.cos(rad), -Math.sin(rad), 0, Math.sin(rad), Math.cos(rad), 0, 0, 0, 1];
/**
 * A perspective tilt about the origin: points at x = +1/`px` go to infinity, so `px` of about
 * 0.3 / halfWidth makes the far side visibly smaller (a camera not square to the product).
 */
export const tilt = (px: number, py: number): Mat3 => [1, 0, 0, 0, 1, 0, px, py, 1];

/** Applies `m` to the point (x, y). */
export function apply(m: Mat3, x: number, y: number): [number, number] {
  const w = m[6] * x + m[7] * y + m[8];
  return [(m[0] * x + m[1] * y + m[2]) / w, (m[3] * x + m[4] * y + m[5]) / w];
}

/** The inverse of `m`. Throws RangeError when it is singular. */
export function invert(m: Mat3): Mat3 {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) throw new RangeError('homography is singular');
  const k = 1 / det;
  return [
    A * k,
    -(b * i - c * h) * k,
    (b * f - c * e) * k,
    B * k,
    (a * i - c * g) * k,
    -(a * f - c * d) * k,
    C * k,
    -(a * h - b * g) * k,
    (a * e - b * d) * k,
  ];
}

/** Bounding box of the four corners of a `w` x `h` rectangle under `m`. */
export function projectedBox(m: Mat3, x0: number, y0: number, x1: number, y1: number): { x0: number; y0: number; x1: number; y1: number } {
  const pts = [apply(m, x0, y0), apply(m, x1, y0), apply(m, x0, y1), apply(m, x1, y1)];
  return {
    x0: Math.min(...pts.map((p) => p[0])),
    y0: Math.min(...pts.map((p) => p[1])),
    x1: Math.max(...pts.map((p) => p[0])),
    y1: Math.max(...pts.map((p) => p[1])),
  };
}
