// Reads twinlens view sets (views.u8 + views.json, NHWC uint8 RGB) as the embedder's NCHW float input (x/255).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** All images of the given view-set folders, as { size, count, batch(start, n) -> Float32Array }. */
export function loadViewSets(dirs) {
  const sets = dirs.map((d) => ({ index: JSON.parse(readFileSync(join(d, 'views.json'), 'utf8')), data: readFileSync(join(d, 'views.u8')) }));
  const size = sets[0].index.size;
  const per = size * size * 3;
  const images = [];
  for (const s of sets) {
    if (s.index.size !== size) throw new Error('view sets differ in size');
    for (let i = 0; i < s.index.count; i++) images.push(s.data.subarray(i * per, (i + 1) * per));
  }
  const plane = size * size;
  return {
    size,
    count: images.length,
    batch(start, n) {
      const out = new Float32Array(n * 3 * plane);
      for (let k = 0; k < n; k++) {
        const img = images[start + k];
        for (let c = 0; c < 3; c++) {
          const o = (k * 3 + c) * plane;
          for (let p = 0, q = c; p < plane; p++, q += 3) out[o + p] = img[q] / 255;
        }
      }
      return out;
    },
  };
}
