import { crc32 } from 'node:zlib';
import { createRng, intRange, pick, type Rng } from '../../src/demo/index.js';
import type { FuzzSeed, SeedContainer } from './fuzz-seeds.js';

/** Every way a fuzz case is made from a seed. */
export const MUTATION_KINDS = [
  'intact',
  'truncate',
  'truncate-tail',
  'bit-flip',
  'header-bit-flip',
  'overwrite-run',
  'insert-run',
  'duplicate-chunk',
  'swap-magic',
  'huge-dimensions',
  'append-garbage',
  'splice',
  'stacked',
  'random-garbage',
  'zero-length',
  'over-byte-limit',
] as const;
export type MutationKind = (typeof MUTATION_KINDS)[number];

/** Relative frequency of each kind (the checks that matter most get most of the cases). */
const WEIGHTS: Readonly<Record<MutationKind, number>> = {
  intact: 3,
  truncate: 14,
  'truncate-tail': 5,
  'bit-flip': 14,
  'header-bit-flip': 10,
  'overwrite-run': 10,
  'insert-run': 4,
  'duplicate-chunk': 8,
  'swap-magic': 6,
  'huge-dimensions': 12,
  'append-garbage': 3,
  splice: 4,
  stacked: 6,
  'random-garbage': 3,
  'zero-length': 0.5,
  'over-byte-limit': 0.15,
};

/**
 * What the server may answer: `ok` (it must decode: an intact accepted seed), `invalid` (it must be
 * refused with INVALID_ARGUMENT: empty, over the byte limit, a refused format), or `either`.
 */
export type Expectation = 'ok' | 'invalid' | 'either';

/** One generated fuzz case. */
export interface FuzzCase {
  /** Case number within the run; with the run seed it regenerates the case. */
  index: number;
  kind: MutationKind;
  seedName: string;
  /** What exactly was done, e.g. `truncate at 143/2210`. */
  detail: string;
  expect: Expectation;
  bytes: Buffer;
}

/** Signatures swapped between formats by `swap-magic`. */
const MAGIC: Readonly<Record<string, Buffer>> = {
  jpeg: Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
  png: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  gif: Buffer.from('GIF89a', 'latin1'),
  webp: Buffer.from('RIFF\x00\x10\x00\x00WEBPVP8 ', 'latin1'),
  avif: Buffer.from('\x00\x00\x00\x1cftypavif', 'latin1'),
  tiffLE: Buffer.from('II*\x00', 'latin1'),
  tiffBE: Buffer.from('MM\x00*', 'latin1'),
  bigtiff: Buffer.from('II+\x00\x08\x00\x00\x00', 'latin1'),
  svg: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" ', 'latin1'),
  bmp: Buffer.from('BM', 'latin1'),
  jxl: Buffer.from([0xff, 0x0a]),
  jp2: Buffer.from([0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a]),
  ico: Buffer.from([0x00, 0x00, 0x01, 0x00]),
  gzip: Buffer.from([0x1f, 0x8b, 0x08]),
};

/**
 * Declared sizes patched into headers: zero, one, the largest each field holds, just under and just
 * over the default 50 Mpx limit, and extreme aspect ratios.
 */
const HUGE_SIZES: readonly (readonly [number, number])[] = [
  [0, 0],
  [0, 64],
  [1, 1],
  [65535, 65535],
  [7071, 7071], // 49.99 Mpx: just under the pixel limit
  [7072, 7072], // just over
  [1, 49_999_999],
  [49_999_999, 1],
  [65535, 1],
  [1, 65535],
  [2 ** 31 - 1, 2 ** 31 - 1],
  [2 ** 32 - 1, 16],
  [16384, 16384],
  [4096, 3072],
];

function randomBytes(rng: Rng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rng() * 256);
  return b;
}

/** PNG chunks: [offset of the length field, total chunk length incl. length, type and CRC]. */
function pngChunks(b: Buffer): { at: number; length: number; type: string }[] {
  const out: { at: number; length: number; type: string }[] = [];
  let p = 8;
  while (p + 12 <= b.length) {
    const len = b.readUInt32BE(p);
    if (p + 12 + len > b.length) break;
    out.push({ at: p, length: 12 + len, type: b.toString('latin1', p + 4, p + 8) });
    p += 12 + len;
  }
  return out;
}

/** JPEG marker segments before the entropy-coded data: [offset of 0xFF, total length, marker]. */
function jpegSegments(b: Buffer): { at: number; length: number; marker: number }[] {
  const out: { at: number; length: number; marker: number }[] = [];
  let p = 2;
  while (p + 4 <= b.length && b[p] === 0xff) {
    const marker = b[p + 1];
    const len = b.readUInt16BE(p + 2);
    out.push({ at: p, length: 2 + len, marker });
    if (marker === 0xda) break; // start of scan: entropy-coded data follows
    p += 2 + len;
  }
  return out;
}

/** RIFF chunks of a WebP: [offset, total length incl. header and pad, fourcc]. */
function riffChunks(b: Buffer): { at: number; length: number; type: string }[] {
  const out: { at: number; length: number; type: string }[] = [];
  let p = 12;
  while (p + 8 <= b.length) {
    const len = b.readUInt32LE(p + 4);
    const total = 8 + len + (len % 2);
    if (p + total > b.length) break;
    out.push({ at: p, length: total, type: b.toString('latin1', p, p + 4) });
    p += total;
  }
  return out;
}

/** Top-level ISOBMFF boxes of an AVIF: [offset, length, type]. */
function isoBoxes(b: Buffer): { at: number; length: number; type: string }[] {
  const out: { at: number; length: number; type: string }[] = [];
  let p = 0;
  while (p + 8 <= b.length) {
    const len = b.readUInt32BE(p);
    if (len < 8 || p + len > b.length) break;
    out.push({ at: p, length: len, type: b.toString('latin1', p + 4, p + 8) });
    p += len;
  }
  return out;
}

function duplicateChunk(b: Buffer, container: SeedContainer, rng: Rng): { bytes: Buffer; detail: string } {
  const dup = (at: number, length: number, what: string, times = 1): { bytes: Buffer; detail: string } => {
    const chunk = b.subarray(at, at + length);
    return {
      bytes: Buffer.concat([b.subarray(0, at + length), ...Array.from({ length: times }, () => chunk), b.subarray(at + length)]),
      detail: `${what} at ${at} (${length} B) repeated ${times + 1}x`,
    };
  };
  if (container === 'png') {
    const chunks = pngChunks(b).filter((c) => c.type !== 'IEND');
    if (chunks.length) {
      const c = pick(rng, chunks);
      return dup(c.at, c.length, `PNG chunk ${c.type}`, rng() < 0.1 ? intRange(rng, 2, 50) : 1);
    }
  }
  if (container === 'jpeg') {
    const segs = jpegSegments(b);
    if (segs.length) {
      const s = pick(rng, segs);
      // A repeated SOS header splices the scan header into the entropy-coded data: still worth feeding.
      return dup(s.at, s.length, `JPEG marker FF${s.marker.toString(16).toUpperCase()}`, rng() < 0.1 ? intRange(rng, 2, 50) : 1);
    }
  }
  if (container === 'webp') {
    const chunks = riffChunks(b);
    if (chunks.length) {
      const c = pick(rng, chunks);
      return dup(c.at, c.length, `WebP chunk ${c.type}`, rng() < 0.1 ? intRange(rng, 2, 20) : 1);
    }
  }
  if (container === 'avif') {
    const boxes = isoBoxes(b);
    if (boxes.length) {
      const c = pick(rng, boxes);
      return dup(c.at, c.length, `AVIF box ${c.type}`);
    }
  }
  if (container === 'gif') {
    // Repeat everything between the header+palette and the trailer: many frames (the frame limit).
    const end = b.length - 1;
    const start = 13 + ((b[10] & 0x80) !== 0 ? 3 * 2 ** ((b[10] & 7) + 1) : 0);
    if (start < end && b[end] === 0x3b) return dup(start, end - start, 'GIF frame blocks', pick(rng, [1, 2, 255, 300]));
  }
  const at = intRange(rng, 0, Math.max(0, b.length - 1));
  const length = intRange(rng, 1, Math.min(512, b.length - at));
  return dup(at, length, 'byte range', rng() < 0.1 ? intRange(rng, 2, 100) : 1);
}

/** Patches a declared width and height into the format's header (the PNG CRC is recomputed). */
function hugeDimensions(b0: Buffer, container: SeedContainer, rng: Rng): { bytes: Buffer; detail: string } {
  const b = Buffer.from(b0);
  const [w, h] = pick(rng, HUGE_SIZES);
  const u16 = (n: number): number => Math.min(n, 65535);
  switch (container) {
    case 'png': {
      // IHDR: length (4) 'IHDR' (4) width (4) height (4) ... CRC over type+data at 29.
      b.writeUInt32BE(w >>> 0, 16);
      b.writeUInt32BE(h >>> 0, 20);
      if (rng() < 0.9) b.writeUInt32BE(crc32(b.subarray(12, 29)) >>> 0, 29);
      return { bytes: b, detail: `PNG IHDR ${w}x${h}` };
    }
    case 'jpeg': {
      const sof = jpegSegments(b).find((s) => s.marker >= 0xc0 && s.marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(s.marker));
      if (!sof) break;
      b.writeUInt16BE(u16(h), sof.at + 5);
      b.writeUInt16BE(u16(w), sof.at + 7);
      return { bytes: b, detail: `JPEG SOF ${u16(w)}x${u16(h)}` };
    }
    case 'gif': {
      const which = pick(rng, ['screen', 'frame', 'both']);
      if (which !== 'frame') {
        b.writeUInt16LE(u16(w), 6);
        b.writeUInt16LE(u16(h), 8);
      }
      if (which !== 'screen') {
        const desc = b.indexOf(0x2c, 13);
        if (desc > 0 && desc + 9 <= b.length) {
          b.writeUInt16LE(u16(w), desc + 5);
          b.writeUInt16LE(u16(h), desc + 7);
        }
      }
      return { bytes: b, detail: `GIF ${which} ${u16(w)}x${u16(h)}` };
    }
    case 'webp': {
      const chunks = riffChunks(b);
      const vp8x = chunks.find((c) => c.type === 'VP8X');
      const vp8 = chunks.find((c) => c.type === 'VP8 ');
      const vp8l = chunks.find((c) => c.type === 'VP8L');
      // VP8X canvas: 24-bit width-1 and height-1 at offsets 12 and 15 of the chunk data.
      if (vp8x && (rng() < 0.7 || (!vp8 && !vp8l))) {
        const cw = Math.max(0, Math.min(w, 2 ** 24)) - 1;
        const ch = Math.max(0, Math.min(h, 2 ** 24)) - 1;
        b.writeUIntLE(cw & 0xffffff, vp8x.at + 12, 3);
        b.writeUIntLE(ch & 0xffffff, vp8x.at + 15, 3);
        return { bytes: b, detail: `WebP VP8X canvas ${cw + 1}x${ch + 1}` };
      }
      if (vp8) {
        // VP8 key frame: 3-byte tag, 9D 01 2A, then 14-bit width and height (2 bits of scale on top).
        b.writeUInt16LE(u16(w) & 0x3fff, vp8.at + 8 + 6);
        b.writeUInt16LE(u16(h) & 0x3fff, vp8.at + 8 + 8);
        return { bytes: b, detail: `WebP VP8 frame ${u16(w) & 0x3fff}x${u16(h) & 0x3fff}` };
      }
      if (vp8l) {
        // VP8L: signature 0x2f, then 14 bits width-1, 14 bits height-1.
        const cw = (Math.max(1, Math.min(w, 16384)) - 1) & 0x3fff;
        const ch = (Math.max(1, Math.min(h, 16384)) - 1) & 0x3fff;
        const bits = b.readUInt32LE(vp8l.at + 9);
        b.writeUInt32LE(((bits & ~0x0fffffff) | cw | (ch << 14)) >>> 0, vp8l.at + 9);
        return { bytes: b, detail: `WebP VP8L ${cw + 1}x${ch + 1}` };
      }
      break;
    }
    case 'avif': {
      // 'ispe' property: size (4) 'ispe' (4) version+flags (4) width (4) height (4).
      const at = b.indexOf('ispe', 0, 'latin1');
      if (at < 4) break;
      b.writeUInt32BE(w >>> 0, at + 8);
      b.writeUInt32BE(h >>> 0, at + 12);
      return { bytes: b, detail: `AVIF ispe ${w}x${h}` };
    }
    case 'tiff': {
      // First IFD: patch ImageWidth (256) and ImageLength (257), SHORT or LONG.
      const le = b[0] === 0x49;
      const r16 = (o: number): number => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
      const r32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
      const ifd = r32(4);
      if (ifd + 2 > b.length) break;
      const n = r16(ifd);
      for (let i = 0; i < n && ifd + 2 + 12 * (i + 1) <= b.length; i++) {
        const e = ifd + 2 + 12 * i;
        const tag = r16(e);
        if (tag !== 256 && tag !== 257) continue;
        const value = tag === 256 ? w : h;
        if (r16(e + 2) === 3) {
          if (le) b.writeUInt16LE(u16(value), e + 8);
          else b.writeUInt16BE(u16(value), e + 8);
        } else if (le) b.writeUInt32LE(value >>> 0, e + 8);
        else b.writeUInt32BE(value >>> 0, e + 8);
      }
      return { bytes: b, detail: `TIFF ImageWidth/Length ${w}x${h}` };
    }
    default:
      break;
  }
  return { bytes: b, detail: `no size field known; left as is (${w}x${h} not applied)` };
}

/** One plain random mutation (used alone and stacked). */
function simpleMutation(b: Buffer, rng: Rng): { bytes: Buffer; detail: string } {
  const op = pick(rng, ['truncate', 'flip', 'run', 'insert'] as const);
  if (b.length === 0) return { bytes: b, detail: 'empty' };
  if (op === 'truncate') {
    const at = intRange(rng, 1, Math.max(1, b.length - 1));
    return { bytes: b.subarray(0, at), detail: `truncate at ${at}` };
  }
  if (op === 'flip') {
    const c = Buffer.from(b);
    const at = intRange(rng, 0, c.length - 1);
    c[at] ^= 1 << intRange(rng, 0, 7);
    return { bytes: c, detail: `flip byte ${at}` };
  }
  if (op === 'run') {
    const c = Buffer.from(b);
    const at = intRange(rng, 0, c.length - 1);
    const n = Math.min(intRange(rng, 1, 32), c.length - at);
    c.fill(pick(rng, [0x00, 0xff]), at, at + n);
    return { bytes: c, detail: `run ${n}@${at}` };
  }
  const at = intRange(rng, 0, b.length);
  return { bytes: Buffer.concat([b.subarray(0, at), randomBytes(rng, intRange(rng, 1, 64)), b.subarray(at)]), detail: `insert@${at}` };
}

function pickKind(rng: Rng): MutationKind {
  const total = MUTATION_KINDS.reduce((s, k) => s + WEIGHTS[k], 0);
  let x = rng() * total;
  for (const k of MUTATION_KINDS) {
    x -= WEIGHTS[k];
    if (x < 0) return k;
  }
  return 'bit-flip';
}

/** Options of {@link fuzzCase}. */
export interface FuzzCaseOptions {
  /** The server's byte limit, for `over-byte-limit` (default 20 MiB, the server's default). */
  maxImageBytes?: number;
  /** Force a kind (tests); default drawn by weight. */
  kind?: MutationKind;
}

/**
 * Fuzz case `index` of the run seeded `runSeed`: picks a seed file and a mutation from an rng of
 * its own, so a case depends only on (runSeed, index) and any failure can be regenerated alone.
 */
export function fuzzCase(seeds: readonly FuzzSeed[], runSeed: number, index: number, options: FuzzCaseOptions = {}): FuzzCase {
  const rng = createRng(Math.imul(runSeed ^ 0x5bd1e995, 0x01000193) ^ Math.imul(index + 1, 0x9e3779b1));
  const seed = pick(rng, seeds);
  const kind = options.kind ?? pickKind(rng);
  const b = seed.bytes;
  // Refused formats stay refused whatever is done to them; an accepted one may or may not survive.
  const mutated = (bytes: Buffer, detail: string): FuzzCase => ({
    index,
    kind,
    seedName: seed.name,
    detail,
    expect: seed.verdict === 'refused' ? 'invalid' : 'either',
    bytes,
  });
  switch (kind) {
    case 'intact':
      return { ...mutated(b, 'unchanged'), expect: seed.verdict === 'accepted' ? 'ok' : 'invalid' };
    case 'truncate': {
      const at = intRange(rng, 1, Math.max(1, b.length - 1));
      return mutated(b.subarray(0, at), `truncate at ${at}/${b.length}`);
    }
    case 'truncate-tail': {
      const cut = intRange(rng, 1, Math.min(16, b.length - 1));
      return mutated(b.subarray(0, b.length - cut), `last ${cut} bytes cut`);
    }
    case 'bit-flip':
    case 'header-bit-flip': {
      const c = Buffer.from(b);
      const n = intRange(rng, 1, 8);
      const span = kind === 'header-bit-flip' ? Math.min(c.length, 64) : c.length;
      const at: number[] = [];
      for (let i = 0; i < n; i++) {
        const p = intRange(rng, 0, span - 1);
        c[p] ^= 1 << intRange(rng, 0, 7);
        at.push(p);
      }
      return mutated(c, `${n} bit(s) flipped at ${at.join(',')}`);
    }
    case 'overwrite-run': {
      const c = Buffer.from(b);
      const at = intRange(rng, 0, c.length - 1);
      const n = Math.min(intRange(rng, 1, 64), c.length - at);
      const fill = pick(rng, ['zero', 'ff', 'random'] as const);
      if (fill === 'random') randomBytes(rng, n).copy(c, at);
      else c.fill(fill === 'zero' ? 0 : 0xff, at, at + n);
      return mutated(c, `${n} bytes at ${at} set to ${fill}`);
    }
    case 'insert-run': {
      const at = intRange(rng, 0, b.length);
      const n = intRange(rng, 1, 256);
      return mutated(Buffer.concat([b.subarray(0, at), randomBytes(rng, n), b.subarray(at)]), `${n} random bytes inserted at ${at}`);
    }
    case 'duplicate-chunk': {
      const r = duplicateChunk(b, seed.container, rng);
      return mutated(r.bytes, r.detail);
    }
    case 'swap-magic': {
      const name = pick(rng, Object.keys(MAGIC));
      const magic = MAGIC[name];
      const c = Buffer.from(b);
      magic.copy(c, 0, 0, Math.min(magic.length, c.length));
      // Another format's signature over this one's: whatever it decodes as, it is not this file any more.
      return mutated(c, `first ${magic.length} bytes replaced by the ${name} signature`);
    }
    case 'huge-dimensions': {
      const r = hugeDimensions(b, seed.container, rng);
      return mutated(r.bytes, r.detail);
    }
    case 'append-garbage': {
      const n = intRange(rng, 1, 4096);
      return mutated(Buffer.concat([b, randomBytes(rng, n)]), `${n} random bytes appended`);
    }
    case 'splice': {
      const other = pick(rng, seeds);
      const at = intRange(rng, 1, b.length - 1);
      const from = intRange(rng, 0, other.bytes.length - 1);
      return mutated(Buffer.concat([b.subarray(0, at), other.bytes.subarray(from)]), `head ${at} B + ${other.name} from ${from}`);
    }
    case 'stacked': {
      let c: Buffer = b;
      const details: string[] = [];
      for (let i = intRange(rng, 2, 5); i > 0; i--) {
        const r = simpleMutation(c, rng);
        c = r.bytes;
        details.push(r.detail);
      }
      return mutated(c, details.join(' + '));
    }
    case 'random-garbage': {
      const n = intRange(rng, 1, 65536);
      const g = randomBytes(rng, n);
      // Half of them start like a real format, so the decoder gets past its sniffing.
      const magic = rng() < 0.5 ? MAGIC[pick(rng, Object.keys(MAGIC))] : undefined;
      magic?.copy(g, 0, 0, Math.min(magic.length, n));
      return { ...mutated(g, `${n} random bytes${magic ? ' after a signature' : ''}`), seedName: '(none)', expect: 'either' };
    }
    case 'zero-length':
      return { ...mutated(Buffer.alloc(0), 'no bytes'), expect: 'invalid' };
    case 'over-byte-limit': {
      const limit = options.maxImageBytes ?? 20 * 1024 * 1024;
      const pad = intRange(rng, 1, 1024);
      return { ...mutated(Buffer.concat([b, Buffer.alloc(limit + pad - b.length)]), `padded to ${limit + pad} B (limit ${limit})`), expect: 'invalid' };
    }
  }
}
