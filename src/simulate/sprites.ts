/**
 * Drawn occluder sprites: hands holding the product and shelf price tags (SVG rasterised by sharp).
 */
import { loadSprite, type RgbaImage } from './raster.js';
import { createRng, pick, range } from './random.js';

const SKIN = ['#f1c7a8', '#e0ac89', '#c68863', '#a7694a', '#7b4b33', '#f5d5c0'];
const TAG_COLORS = ['#ffffff', '#fff36b', '#ffd12a', '#e8f4ff', '#ff5a4e', '#ffe9e0'];

/** SVG of a hand seen from the palm side: palm, four fingers and a thumb, fingers pointing up. */
function handSvg(seed: number): string {
  const rng = createRng(seed);
  const skin = pick(rng, SKIN);
  const shade = 0.75 + rng() * 0.15;
  const fingers = [0, 1, 2, 3]
    .map((k) => {
      const x = 52 + k * 24 + range(rng, -2, 2);
      const len = [70, 82, 78, 62][k]! * range(rng, 0.9, 1.1);
      const bend = range(rng, -8, 8);
      return `<rect x="${x - 10}" y="${110 - len}" width="20" height="${len + 30}" rx="10" fill="${skin}" transform="rotate(${bend} ${x} 120)"/>`;
    })
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="240" viewBox="0 0 200 240">` +
    `<defs><radialGradient id="g" cx="0.4" cy="0.4" r="0.8"><stop offset="0" stop-color="#ffffff" stop-opacity="0.15"/>` +
    `<stop offset="1" stop-color="#000000" stop-opacity="${(1 - shade).toFixed(2)}"/></radialGradient></defs>` +
    fingers +
    `<ellipse cx="90" cy="160" rx="58" ry="62" fill="${skin}"/>` +
    `<rect x="10" y="120" width="24" height="80" rx="12" fill="${skin}" transform="rotate(-35 30 180)"/>` +
    `<rect x="60" y="190" width="70" height="50" fill="${skin}"/>` +
    `<ellipse cx="90" cy="160" rx="58" ry="62" fill="url(#g)"/>` +
    `</svg>`
  );
}

/** SVG of a shelf price tag: a coloured card with dark bars standing in for text and a price. */
function tagSvg(seed: number): string {
  const rng = createRng(seed);
  const bg = pick(rng, TAG_COLORS);
  const ink = rng() < 0.7 ? '#1a1a1a' : '#b0001a';
  const bars = Array.from({ length: 3 }, (_, k) => `<rect x="10" y="${10 + k * 12}" width="${range(rng, 40, 110)}" height="6" fill="${ink}" opacity="0.8"/>`).join('');
  const price = Array.from({ length: 3 }, (_, k) => `<rect x="${70 + k * 24}" y="50" width="18" height="30" rx="3" fill="${ink}"/>`).join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="160" height="96" viewBox="0 0 160 96">` +
    `<rect x="1" y="1" width="158" height="94" rx="4" fill="${bg}" stroke="#888" stroke-width="2"/>${bars}${price}</svg>`
  );
}

/** A few hand and price-tag sprites, the same for the same seed. */
export async function drawOccluderSprites(seed: number): Promise<{ hands: RgbaImage[]; tags: RgbaImage[] }> {
  const hands = await Promise.all([0, 1, 2, 3, 4, 5].map((k) => loadSprite(Buffer.from(handSvg(seed * 31 + k)), 200)));
  const tags = await Promise.all([0, 1, 2, 3, 4, 5].map((k) => loadSprite(Buffer.from(tagSvg(seed * 37 + k)), 160)));
  return { hands, tags };
}
