/**
 * The OCR stage with the real PP-OCRv4 networks: it reads printed words off a rendered image (a
 * check that can fail), finds nothing on a blank one, refuses a corrupt image with InvalidImageError,
 * and refuses to load a missing or altered model file, saying which.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import sharp from 'sharp';
import { bundledOcrModelFiles, ctcDecode, OcrModelFileError, OnnxOcr, textBoxes } from '../../src/text/ocr.js';
import { InvalidImageError } from '../../src/errors/index.js';
import { makeTempDir } from '../helpers/server.js';

const OPTIONS = { providers: ['cpu' as const], intraOpThreads: 1, maxImagePixels: 50_000_000 };

/** `words` in black on white, as a small JPEG (catalog-image sized). */
async function printed(words: string, width = 240, height = 80, fontSize = 26): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="white"/><text x="10" y="${height / 2 + fontSize / 3}" font-size="${fontSize}" font-weight="bold" fill="black">${words}</text></svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 90 }).toBuffer();
}

describe('OnnxOcr', () => {
  let ocr: OnnxOcr;
  beforeAll(async () => {
    ocr = await OnnxOcr.create(OPTIONS);
  });
  afterAll(async () => {
    await ocr?.close();
  });

  test('reads printed words', async () => {
    const lines = await ocr.read(await printed('TWINLENS 42'));
    expect(lines.map((l) => l.text).join(' ').replace(/\s+/g, '')).toContain('TWINLENS42');
    for (const l of lines) expect(l.confidence).toBeGreaterThan(0.5);
  });

  test('finds no text on a blank image', async () => {
    const blank = await sharp({ create: { width: 120, height: 90, channels: 3, background: '#ffffff' } }).png().toBuffer();
    expect(await ocr.read(blank)).toEqual([]);
  });

  test('a corrupt image is an InvalidImageError', async () => {
    const jpeg = await printed('MILK');
    await expect(ocr.read(jpeg.subarray(0, jpeg.length / 2))).rejects.toBeInstanceOf(InvalidImageError);
  });

  test('its version names the models and settings', () => {
    expect(ocr.version).toMatch(/^ppocrv4-30a86f57-06b3e6af-x2-m640-t0\.3$/);
  });
});

test('a missing or altered model file stops the load and says which', async () => {
  const dir = await makeTempDir();
  try {
    const files = bundledOcrModelFiles();
    const copy = path.join(dir, 'rec.onnx');
    await fs.copyFile(files.recognition, copy);
    await fs.appendFile(copy, Buffer.from([0]));
    await expect(OnnxOcr.create({ ...OPTIONS, files: { ...files, recognition: copy } })).rejects.toThrow(/^OCR recognition model file .*rec\.onnx has sha256 [0-9a-f]{64}, expected 06b3e6af/);
    await expect(OnnxOcr.create({ ...OPTIONS, files: { ...files, recognition: copy } })).rejects.toBeInstanceOf(OcrModelFileError);
    await expect(OnnxOcr.create({ ...OPTIONS, files: { ...files, detection: path.join(dir, 'none.onnx') } })).rejects.toThrow(/^OCR detection model file .*none\.onnx cannot be read: .*; reinstall with npm ci$/);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('text regions: 8-connected pixels over the threshold, grown by the unclip distance, thin ones dropped', () => {
  const width = 20;
  const height = 10;
  const prob = new Float32Array(width * height);
  for (let y = 2; y <= 5; y++) for (let x = 3; x <= 12; x++) prob[y * width + x] = 0.9; // a 10 x 4 region
  for (let x = 15; x <= 19; x++) prob[8 * width + x] = 0.9; // one pixel high: noise
  // unclip distance round(40 x 1.5 / 28) = 2
  expect(textBoxes(prob, width, height, 0.3)).toEqual([{ x: 1, y: 0, width: 14, height: 8 }]);
});

test('CTC decode merges repeats, drops blanks, and averages the kept characters', () => {
  const dictionary = ['a', 'b'];
  const steps = [0, 1, 1, 0, 1, 2]; // blank a a blank a b -> "aab"
  const probs = new Float32Array(steps.length * 3);
  steps.forEach((c, t) => (probs[t * 3 + c] = 0.8));
  expect(ctcDecode(probs, steps.length, 3, dictionary)).toEqual({ text: 'aab', confidence: expect.closeTo(0.8, 5) });
});
