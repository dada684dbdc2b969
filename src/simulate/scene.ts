/**
 * Builds the scene of a simulated photo before the camera: background, clutter, the product
 * (single, a row of facings, or a pile), its shadow and an occluder (internal).
 */
import sharp from 'sharp';
import { renderBackground } from './backgrounds.js';
import { compose, projectedBox, rotate, scale, tilt, translate, type Mat3 } from './homography.js';
import type { PhotoParams } from './photo-params.js';
import { createRng, pick, range, type Rng } from './random.js';
import { alphaMass, compositeOver, coveredBox, createLayer, drawSprite, opaqueLayer, type Layer, type PixelBox, type RgbaImage } from './raster.js';
import type { SimulationAssets } from './assets.js';

const { atan2, cos, max, min, PI, round, sin, sqrt } = Math;

/** A composed scene: the opaque frame and the main product's own coverage (for checks). */
export interface Scene {
  frame: Layer;
  /** Coverage of the main product copy alone, before occlusion. */
  mainProduct: Layer;
  /** Fraction of the main product's visible area covered by the occluder (0 when none). */
  occludedFraction: number;
}

/** Where the main product went: its transform and its box in the frame. */
interface Placement {
  m: Mat3;
  box: { x0: number; y0: number; x1: number; y1: number };
}

/**
 * The main product's transform: rotate, tilt (perspective), then scale so the projected box spans
 * `objectScale` of the limiting frame side and move it within the free space. With objectScale <= 1
 * the projected product stays inside the frame whatever the rotation and tilt.
 */
export function placeMain(sprite: RgbaImage, p: PhotoParams): Placement {
  const r = max(sprite.width, sprite.height) / 2;
  const m0 = compose(
    translate(-sprite.width / 2, -sprite.height / 2),
    rotate((p.rotationDeg * PI) / 180),
    tilt((p.perspective * cos(p.perspectiveAngle)) / r, (p.perspective * sin(p.perspectiveAngle)) / r),
  );
  const b0 = projectedBox(m0, 0, 0, sprite.width, sprite.height);
  const bw = b0.x1 - b0.x0;
  const bh = b0.y1 - b0.y0;
  const k = p.objectScale * min(p.width / bw, p.height / bh);
  const cx = p.width / 2 + (p.offsetX * (p.width - bw * k)) / 2;
  const cy = p.height / 2 + (p.offsetY * (p.height - bh * k)) / 2;
  const m = compose(m0, scale(k), translate(cx - ((b0.x0 + b0.x1) / 2) * k, cy - ((b0.y0 + b0.y1) / 2) * k));
  return { m, box: projectedBox(m, 0, 0, sprite.width, sprite.height) };
}

function background(p: PhotoParams, assets: SimulationAssets, rng: Rng): Layer {
  const W = p.width;
  const H = p.height;
  if (p.background.source === 'photo' && assets.backgrounds.length > 0) {
    const src = assets.backgrounds[p.background.index % assets.backgrounds.length]!;
    // A random window of the photo (40-100% of the largest one with the frame's aspect), maybe mirrored.
    const fit = min(src.width / W, src.height / H);
    const s = fit * range(rng, 0.4, 1);
    const x0 = rng() * (src.width - W * s);
    const y0 = rng() * (src.height - H * s);
    const flip = rng() < 0.5;
    const layer = createLayer(W, H);
    const m = compose(translate(-x0, -y0), scale(1 / s), flip ? compose(scale(-1, 1), translate(W, 0)) : translate(0, 0));
    drawSprite(layer, src, m);
    return layer;
  }
  if (p.background.source === 'shelf' && assets.clipart.length > 0) return shelf(W, H, assets, rng);
  return opaqueLayer(W, H, renderBackground(p.background.kind, W, H, rng));
}

/** A synthetic store shelf: rows of packed clip-art objects on shelf boards with price tags. */
function shelf(W: number, H: number, assets: SimulationAssets, rng: Rng): Layer {
  const wall = pick(rng, [
    [235, 235, 232],
    [200, 204, 208],
    [60, 62, 66],
    [222, 214, 196],
  ] as const);
  const rgb = new Float32Array(W * H * 3);
  for (let i = 0; i < W * H; i++) {
    rgb[i * 3] = wall[0];
    rgb[i * 3 + 1] = wall[1];
    rgb[i * 3 + 2] = wall[2];
  }
  const layer = opaqueLayer(W, H, rgb);
  const rows = 2 + Math.floor(rng() * 3);
  const rowH = H / rows;
  const board = pick(rng, [
    [245, 245, 245],
    [170, 172, 176],
    [90, 92, 96],
    [214, 40, 40],
  ] as const);
  // 8x8 solid so bilinear sampling only softens the outer edge.
  const boardSprite: RgbaImage = { width: 8, height: 8, data: new Float32Array(256) };
  for (let i = 0; i < 64; i++) boardSprite.data.set([board[0], board[1], board[2], 255], i * 4);
  for (let r = 0; r < rows; r++) {
    const baseY = (r + 1) * rowH - rowH * 0.1;
    let x = -rng() * rowH * 0.5;
    while (x < W) {
      const obj = pick(rng, assets.clipart);
      const h = rowH * range(rng, 0.55, 0.88);
      const k = h / obj.height;
      drawSprite(layer, obj, compose(scale(k), translate(x, baseY - h)));
      x += obj.width * k + rowH * range(rng, 0, 0.08);
    }
    drawSprite(layer, boardSprite, compose(scale(W / 8, (rowH * 0.1) / 8), translate(0, baseY)));
    for (let t = 0; t < 1 + rng() * 3; t++) {
      const tag = pick(rng, assets.tags);
      const th = rowH * 0.12;
      drawSprite(layer, tag, compose(scale(th / tag.height), translate(rng() * W, baseY - th * 0.1)));
    }
  }
  return layer;
}

function clutter(frame: Layer, p: PhotoParams, assets: SimulationAssets, rng: Rng): void {
  if (assets.clipart.length === 0) return;
  for (let i = 0; i < p.clutterCount; i++) {
    const obj = pick(rng, assets.clipart);
    const side = min(p.width, p.height) * range(rng, 0.15, 0.45);
    const k = side / max(obj.width, obj.height);
    drawSprite(
      frame,
      obj,
      compose(translate(-obj.width / 2, -obj.height / 2), rotate(range(rng, -PI, PI)), scale(k), translate(rng() * p.width, rng() * p.height)),
    );
  }
}

/** Copies of the product around the main one: a row of facings, or a heap. */
function copies(layer: Layer, sprite: RgbaImage, main: Placement, p: PhotoParams, rng: Rng): void {
  if (p.layout === 'row') {
    const step = (main.box.x1 - main.box.x0) * range(rng, 1.0, 1.12);
    for (let i = 1; i <= p.copies; i++) {
      const side = i % 2 === 1 ? 1 : -1;
      const n = Math.ceil(i / 2);
      drawSprite(layer, sprite, compose(main.m, translate(side * n * step, range(rng, -0.03, 0.03) * step)));
    }
  } else if (p.layout === 'pile') {
    const mainSide = max(main.box.x1 - main.box.x0, main.box.y1 - main.box.y0);
    const r = max(sprite.width, sprite.height);
    for (let i = 0; i < p.copies; i++) {
      const k = (mainSide * p.pileScale * range(rng, 0.85, 1.15)) / r;
      drawSprite(
        layer,
        sprite,
        compose(
          translate(-sprite.width / 2, -sprite.height / 2),
          rotate(range(rng, -PI, PI)),
          scale(k),
          translate(range(rng, -0.1, 1.1) * p.width, range(rng, -0.1, 1.1) * p.height),
        ),
      );
    }
  }
}

async function shadowOf(layer: Layer, p: PhotoParams): Promise<Float32Array | null> {
  if (p.shadowOpacity <= 0) return null;
  const W = p.width;
  const H = p.height;
  const a = Buffer.alloc(W * H);
  for (let i = 0; i < W * H; i++) a[i] = round((layer.alpha[i] as number) * 255);
  const sigma = max(1, 0.03 * min(W, H));
  const { data, info } = await sharp(a, { raw: { width: W, height: H, channels: 1 } }).blur(sigma).raw().toBuffer({ resolveWithObject: true });
  const dx = round(-cos(p.lightAngle) * 0.025 * min(W, H));
  const dy = round(-sin(p.lightAngle) * 0.025 * min(W, H));
  const out = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    const sy = y - dy;
    if (sy < 0 || sy >= H) continue;
    for (let x = 0; x < W; x++) {
      const sx = x - dx;
      if (sx < 0 || sx >= W) continue;
      out[y * W + x] = (p.shadowOpacity * (data[(sy * W + sx) * info.channels] as number)) / 255;
    }
  }
  return out;
}

/**
 * Fraction of `main`'s coverage that `occ` covers. `within`, when given, must hold all of `main`'s
 * coverage (see coveredBox): only its pixels are read, in the same order, so the sum is the same.
 */
export function coveredFraction(main: Layer, occ: Layer, within?: PixelBox): number {
  const W = main.width;
  const { x0, y0, x1, y1 } = within ?? { x0: 0, y0: 0, x1: W - 1, y1: main.height - 1 };
  let covered = 0;
  let total = 0;
  for (let y = y0; y <= y1; y++) {
    for (let i = y * W + x0, end = y * W + x1; i <= end; i++) {
      const a = main.alpha[i] as number;
      if (a <= 0) continue;
      total += a;
      covered += a * (occ.alpha[i] as number);
    }
  }
  return total > 0 ? covered / total : 0;
}

/**
 * Draws an occluder sliding in towards the product's centre from `p.occlusion.angle`, with the
 * depth found by bisection so that it covers `p.occlusion.fraction` of the main product.
 */
function occluder(main: Layer, mainBox: Placement['box'], p: PhotoParams, assets: SimulationAssets, rng: Rng): Layer | null {
  const o = p.occlusion;
  if (!o) return null;
  const list = o.kind === 'hand' ? assets.hands : o.kind === 'tag' ? assets.tags : assets.clipart;
  const sprite = list.length > 0 ? pick(rng, list) : pick(rng, assets.hands);
  const pcx = (mainBox.x0 + mainBox.x1) / 2;
  const pcy = (mainBox.y0 + mainBox.y1) / 2;
  const reach = sqrt((mainBox.x1 - mainBox.x0) ** 2 + (mainBox.y1 - mainBox.y0) ** 2) / 2;
  const dirX = cos(o.angle);
  const dirY = sin(o.angle);
  // Hands point their fingers at the product; other occluders get a random tilt.
  const spin = o.kind === 'hand' ? atan2(-dirX, dirY) + PI : range(rng, -0.4, 0.4);
  let size = 2 * reach * range(rng, 0.55, 0.8);
  const layer = createLayer(p.width, p.height);
  const placed = (depth: number): Mat3 => {
    const k = size / max(sprite.width, sprite.height);
    const dist = (reach + size / 2) * (1 - depth);
    return compose(translate(-sprite.width / 2, -sprite.height / 2), rotate(spin), scale(k), translate(pcx + dirX * dist, pcy + dirY * dist));
  };
  // The search only needs the coverage over the product, so it draws coverage alone, there alone.
  const region = coveredBox(main);
  if (!region) return null;
  const coverageAt = (depth: number): number => {
    for (let y = region.y0; y <= region.y1; y++) layer.alpha.fill(0, y * p.width + region.x0, y * p.width + region.x1 + 1);
    drawSprite(layer, sprite, placed(depth), 1, undefined, region, true);
    return coveredFraction(main, layer, region);
  };
  for (let tries = 0; tries < 5 && coverageAt(1) < o.fraction; tries++) size *= 1.4;
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 11; i++) {
    const mid = (lo + hi) / 2;
    if (coverageAt(mid) < o.fraction) lo = mid;
    else hi = mid;
  }
  layer.alpha.fill(0);
  drawSprite(layer, sprite, placed(hi));
  return layer;
}

/**
 * Specular glare: soft elliptical highlights, screen-blended towards white, only where the main
 * product is (lights reflected on a glossy package or fruit skin).
 */
function glare(frame: Layer, main: Layer, box: Placement['box'], p: PhotoParams): void {
  const g = p.glare;
  if (!g) return;
  const rng = createRng(g.seed);
  const W = p.width;
  const H = p.height;
  const bw = box.x1 - box.x0;
  const bh = box.y1 - box.y0;
  for (let s = 0; s < g.spots; s++) {
    const cx = box.x0 + bw * range(rng, 0.15, 0.85);
    const cy = box.y0 + bh * range(rng, 0.15, 0.85);
    const rx = max(2, bw * range(rng, 0.05, 0.25));
    const ry = max(2, bh * range(rng, 0.03, 0.2));
    const angle = range(rng, -PI, PI);
    const strength = g.strength * range(rng, 0.6, 1);
    const ca = cos(angle);
    const sa = sin(angle);
    const reach = max(rx, ry) * 2;
    const x0 = max(0, Math.floor(cx - reach));
    const x1 = min(W - 1, Math.ceil(cx + reach));
    const y0 = max(0, Math.floor(cy - reach));
    const y1 = min(H - 1, Math.ceil(cy + reach));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const i = y * W + x;
        const m = main.alpha[i] as number;
        if (m <= 0) continue;
        const dx = x + 0.5 - cx;
        const dy = y + 0.5 - cy;
        const u = (dx * ca + dy * sa) / rx;
        const v = (-dx * sa + dy * ca) / ry;
        const a = strength * m * Math.exp(-2 * (u * u + v * v));
        if (a < 0.004) continue;
        for (let c = 0; c < 3; c++) frame.rgb[i * 3 + c] = (frame.rgb[i * 3 + c] as number) + (255 - (frame.rgb[i * 3 + c] as number)) * a;
      }
    }
  }
}

/** Composes the scene of one simulated photo (no camera effects yet). */
export async function composeScene(product: RgbaImage, p: PhotoParams, assets: SimulationAssets): Promise<Scene> {
  const rng = createRng(p.sceneSeed);
  const frame = background(p, assets, rng);
  clutter(frame, p, assets, rng);
  const main = placeMain(product, p);
  const products = createLayer(p.width, p.height);
  copies(products, product, main, p, rng);
  const mainLayer = createLayer(p.width, p.height);
  drawSprite(mainLayer, product, main.m);
  compositeOver(products, mainLayer);
  const shadow = await shadowOf(products, p);
  if (shadow) {
    for (let i = 0; i < shadow.length; i++) {
      const keep = 1 - (shadow[i] as number);
      frame.rgb[i * 3] = (frame.rgb[i * 3] as number) * keep;
      frame.rgb[i * 3 + 1] = (frame.rgb[i * 3 + 1] as number) * keep;
      frame.rgb[i * 3 + 2] = (frame.rgb[i * 3 + 2] as number) * keep;
    }
  }
  compositeOver(frame, products);
  glare(frame, mainLayer, main.box, p);
  let occludedFraction = 0;
  if (alphaMass(mainLayer) > 0) {
    const occ = occluder(mainLayer, main.box, p, assets, rng);
    if (occ) {
      occludedFraction = coveredFraction(mainLayer, occ);
      compositeOver(frame, occ);
    }
  }
  return { frame, mainProduct: mainLayer, occludedFraction };
}
