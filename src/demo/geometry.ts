/**
 * 2-D helpers for drawing watch outlines as SVG paths (internal).
 */

/** A point `[x, y]` in SVG user units (y grows downwards). */
export type Pt = [number, number];

/** Outline families understood by {@link outline}. */
export type OutlineKind = 'ellipse' | 'rounded-square' | 'cushion' | 'octagon' | 'tonneau';

/** Formats a coordinate for SVG output (one decimal keeps files small). */
export function f(x: number): string {
  return (Math.round(x * 10) / 10).toString();
}

/**
 * Samples a closed, convex outline centred on `(cx, cy)` with half-width `a`
 * and half-height `b`.
 */
export function outline(kind: OutlineKind, cx: number, cy: number, a: number, b: number, n = 144): Pt[] {
  if (kind === 'octagon') {
    const pts: Pt[] = [];
    const k = 1 / Math.cos(Math.PI / 8); // so that a/b are the inradii (flat sides)
    for (let i = 0; i < 8; i++) {
      const t = Math.PI / 8 + (i * Math.PI) / 4;
      pts.push([cx + a * k * Math.cos(t), cy + b * k * Math.sin(t)]);
    }
    return pts;
  }
  const exponent = kind === 'ellipse' ? 2 : kind === 'rounded-square' ? 9 : kind === 'cushion' ? 3.4 : 4.2;
  const pts: Pt[] = [];
  for (let i = 0; i < n; i++) {
    const t = (i / n) * Math.PI * 2;
    const c = Math.cos(t);
    const s = Math.sin(t);
    let x = a * Math.sign(c) * Math.pow(Math.abs(c), 2 / exponent);
    const y = b * Math.sign(s) * Math.pow(Math.abs(s), 2 / exponent);
    if (kind === 'tonneau') x *= 1 - 0.16 * (y / b) * (y / b);
    pts.push([cx + x, cy + y]);
  }
  return pts;
}

/** Closed SVG path data through the points. */
export function polyPath(pts: readonly Pt[]): string {
  let d = '';
  for (let i = 0; i < pts.length; i++) {
    const p = pts[i] as Pt;
    d += `${i === 0 ? 'M' : 'L'}${f(p[0])} ${f(p[1])}`;
  }
  return `${d}Z`;
}

/**
 * Distance from `(cx, cy)` to a star-shaped outline along direction `angle`
 * (radians, 0 = right, clockwise because y grows downwards).
 */
export function rayRadius(pts: readonly Pt[], cx: number, cy: number, angle: number): number {
  const dx = Math.cos(angle);
  const dy = Math.sin(angle);
  let best = Infinity;
  for (let i = 0; i < pts.length; i++) {
    const p = pts[i] as Pt;
    const q = pts[(i + 1) % pts.length] as Pt;
    const ex = q[0] - p[0];
    const ey = q[1] - p[1];
    const denom = dx * ey - dy * ex;
    if (Math.abs(denom) < 1e-12) continue;
    const px = p[0] - cx;
    const py = p[1] - cy;
    const t = (px * ey - py * ex) / denom; // along the ray
    const u = (px * dy - py * dx) / denom; // along the edge
    if (t > 0 && u >= -1e-9 && u <= 1 + 1e-9 && t < best) best = t;
  }
  return Number.isFinite(best) ? best : 0;
}

/** Rotates and translates local points (x along the direction `angle`). */
export function place(local: readonly Pt[], cx: number, cy: number, angle: number): Pt[] {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return local.map(([x, y]) => [cx + x * c - y * s, cy + x * s + y * c] as Pt);
}

/** Degrees to radians. */
export function rad(deg: number): number {
  return (deg * Math.PI) / 180;
}
