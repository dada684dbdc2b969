/** The fuzz mutator on its own: deterministic, and each kind does what it says. */
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { type FuzzSeed, fuzzCase, makeFuzzSeeds, MUTATION_KINDS, type MutationKind } from '../../../tools/loadtest/index.js';

let seeds: FuzzSeed[];
beforeAll(async () => {
  seeds = await makeFuzzSeeds();
});

const only = (name: string): FuzzSeed[] => seeds.filter((s) => s.name === name);

describe('fuzz seeds', () => {
  test('every accepted format and flavour decodes, as the format it claims', async () => {
    const accepted = seeds.filter((s) => s.verdict === 'accepted');
    expect(new Set(accepted.map((s) => s.container))).toEqual(new Set(['jpeg', 'png', 'webp', 'avif', 'gif', 'tiff']));
    for (const s of accepted) {
      const meta = await sharp(s.bytes).metadata();
      expect({ name: s.name, format: meta.format === 'heif' ? 'avif' : meta.format }).toEqual({ name: s.name, format: s.container });
    }
    expect((await sharp(only('jpeg-exif-orientation-6')[0].bytes).metadata()).orientation).toBe(6);
    expect((await sharp(only('gif-animated')[0].bytes).metadata()).pages).toBe(4);
    expect((await sharp(only('webp-animated')[0].bytes).metadata()).pages).toBe(3);
    expect((await sharp(only('tiff-multipage')[0].bytes).metadata()).pages).toBe(3);
  });

  test('refused formats are there too', () => {
    expect(seeds.filter((s) => s.verdict === 'refused').map((s) => s.name)).toEqual(
      expect.arrayContaining(['svg', 'svg-xml-bomb', 'svg-external-href', 'heic', 'bmp', 'pdf']),
    );
  });
});

describe('fuzzCase', () => {
  test('depends only on (run seed, index)', () => {
    const a = fuzzCase(seeds, 42, 123);
    const b = fuzzCase(seeds, 42, 123);
    expect(b).toEqual(a);
    expect(fuzzCase(seeds, 43, 123).bytes.equals(a.bytes) && fuzzCase(seeds, 42, 124).bytes.equals(a.bytes)).toBe(false);
  });

  test('draws every kind by weight', () => {
    const counts = new Map<MutationKind, number>();
    for (let i = 0; i < 8000; i++) {
      const k = fuzzCase(seeds, 7, i).kind;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    for (const k of MUTATION_KINDS) expect({ k, drawn: (counts.get(k) ?? 0) > 0 }).toEqual({ k, drawn: true });
  });

  test('expectations: intact accepted files must decode; empty, over-limit and refused formats must be refused', () => {
    for (let i = 0; i < 300; i++) {
      const c = fuzzCase(seeds, 1, i, { kind: 'intact' });
      const seed = seeds.find((s) => s.name === c.seedName)!;
      expect(c.expect).toBe(seed.verdict === 'accepted' ? 'ok' : 'invalid');
      expect(c.bytes.equals(seed.bytes)).toBe(true);
    }
    expect(fuzzCase(seeds, 1, 0, { kind: 'zero-length' })).toMatchObject({ expect: 'invalid', bytes: Buffer.alloc(0) });
    const over = fuzzCase(seeds, 1, 0, { kind: 'over-byte-limit', maxImageBytes: 100_000 });
    expect(over.expect).toBe('invalid');
    expect(over.bytes.length).toBeGreaterThan(100_000);
    for (let i = 0; i < 200; i++) {
      const c = fuzzCase(seeds, 1, i, { kind: 'bit-flip' });
      if (seeds.find((s) => s.name === c.seedName)!.verdict === 'refused') expect(c.expect).toBe('invalid');
      else expect(c.expect).toBe('either');
    }
  });

  test('truncation cuts; bit flips keep the length and change the bytes', () => {
    for (let i = 0; i < 100; i++) {
      const t = fuzzCase(seeds, 3, i, { kind: 'truncate' });
      const original = seeds.find((s) => s.name === t.seedName)!.bytes;
      expect(t.bytes.length).toBeLessThan(original.length);
      expect(original.subarray(0, t.bytes.length).equals(t.bytes)).toBe(true);
      const f = fuzzCase(seeds, 3, i, { kind: 'bit-flip' });
      const o2 = seeds.find((s) => s.name === f.seedName)!.bytes;
      expect(f.bytes.length).toBe(o2.length);
    }
  });

  test('huge declared dimensions land in the header: PNG IHDR with a valid CRC, JPEG SOF, GIF screen', async () => {
    let png = 0;
    let crcFixed = 0;
    let jpeg = 0;
    for (let i = 0; i < 400; i++) {
      const c = fuzzCase(seeds, 5, i, { kind: 'huge-dimensions' });
      const m = /^PNG IHDR (\d+)x(\d+)$/.exec(c.detail);
      if (m) {
        png++;
        expect([c.bytes.readUInt32BE(16), c.bytes.readUInt32BE(20)]).toEqual([Number(m[1]) >>> 0, Number(m[2]) >>> 0]);
        // The CRC is fixed in 9 of 10 cases (the rest exercise the CRC check).
        const crcOk = c.bytes.readUInt32BE(29) === crc32(c.bytes.subarray(12, 29)) >>> 0;
        if (crcOk) crcFixed++;
        // libpng itself refuses sides over 1,000,000 px; read the others back.
        if (crcOk && [Number(m[1]), Number(m[2])].every((n) => n > 0 && n <= 65535)) {
          const meta = await sharp(c.bytes, { limitInputPixels: false }).metadata();
          expect([meta.width, meta.height]).toEqual([Number(m[1]), Number(m[2])]);
        }
      }
      const j = /^JPEG SOF (\d+)x(\d+)$/.exec(c.detail);
      // libjpeg reads at most 65,500 px a side.
      if (j && Number(j[1]) > 0 && Number(j[2]) > 0 && Number(j[1]) <= 65500 && Number(j[2]) <= 65500) {
        jpeg++;
        const meta = await sharp(c.bytes, { limitInputPixels: false }).metadata();
        expect([meta.width, meta.height]).toEqual([Number(j[1]), Number(j[2])]);
      }
    }
    expect(png).toBeGreaterThan(10);
    expect(crcFixed).toBeGreaterThan(png / 2);
    expect(jpeg).toBeGreaterThan(5);
  });
});
