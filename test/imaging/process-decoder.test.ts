/**
 * Decoding in child processes (createProcessDecoder): the same answers as decoding in-process, and a
 * child that dies mid-decode (SIGSEGV) costs only the image that crashes it. Real sharp in real
 * child processes; the children run dist/ (make build first).
 */
import * as path from 'node:path';
import { InvalidImageError } from '../../src/errors/index.js';
import { createProcessDecoder, createSharpDecoder, type ProcessDecoder } from '../../src/imaging/index.js';
import { createRequestReader, requestHeader } from '../../src/imaging/decode-worker.js';
import { assertServerBuilt } from '../tools/loadtest/build-check.js';
import { patternImage, randomBytes, truncatedJpeg } from '../helpers/images.js';

const LIMITS = { size: 224, maxImageBytes: 20 * 1024 * 1024, maxImagePixels: 50_000_000, maxImageFrames: 256 };

describe('createProcessDecoder', () => {
  const decoders: ProcessDecoder[] = [];
  const make = (extra: Partial<Parameters<typeof createProcessDecoder>[0]> = {}): ProcessDecoder => {
    const d = createProcessDecoder({ ...LIMITS, processes: 2, ...extra });
    decoders.push(d);
    return d;
  };
  beforeAll(() => assertServerBuilt());
  afterAll(() => Promise.all(decoders.map((d) => d.close())));

  test('decodes exactly as the in-process decoder, and refuses the same bad input with the same message', async () => {
    const inProcess = createSharpDecoder(LIMITS);
    const pool = make();
    for (const bytes of [await patternImage(1, 'jpeg'), await patternImage(2, 'png'), await patternImage(3, 'webp', 300)]) {
      const [a, b] = await Promise.all([inProcess.decode(bytes), pool.decode(bytes)]);
      expect({ ...b, rgb: undefined }).toEqual({ ...a, rgb: undefined });
      expect(Buffer.compare(Buffer.from(b.rgb), Buffer.from(a.rgb))).toBe(0);
    }
    for (const bad of [await truncatedJpeg(), randomBytes(4096), Buffer.alloc(0)]) {
      const expected = await inProcess.decode(bad).catch((e: Error) => e);
      const got = await pool.decode(bad).catch((e: Error) => e);
      expect(got).toBeInstanceOf(InvalidImageError);
      expect((got as Error).message).toBe((expected as Error).message);
    }
    expect(pool.crashes).toBe(0);
  });

  test('a child that crashes costs only the image that crashes it; the pool goes on', async () => {
    const crashes: unknown[] = [];
    const pool = make({ processes: 1, workerScript: path.join(__dirname, '..', 'fixtures', 'crashing-decode-worker.js'), onCrash: (c) => crashes.push(c) });
    const good = await patternImage(4);
    // Both in flight in the one child when it dies: the bystander is retried alone and succeeds.
    const [bystander, culprit] = await Promise.allSettled([pool.decode(good), pool.decode(Buffer.from('CRASH and burn'))]);
    expect(bystander).toMatchObject({ status: 'fulfilled', value: expect.objectContaining({ size: 224, format: 'jpeg' }) });
    expect(culprit.status).toBe('rejected');
    const reason = (culprit as PromiseRejectedResult).reason as Error;
    expect(reason).toBeInstanceOf(InvalidImageError);
    expect(reason.message).toBe('image could not be decoded: the decoder crashed on it (SIGSEGV)');
    expect(pool.crashingImages).toBe(1);
    expect(pool.crashes).toBe(2); // the shared child, then the culprit's lone retry
    expect(crashes[0]).toMatchObject({ signal: 'SIGSEGV', inFlight: 2 });
    // A fresh child serves what comes next.
    await expect(pool.decode(good)).resolves.toMatchObject({ size: 224 });
    await expect(pool.decode(randomBytes(100))).rejects.toBeInstanceOf(InvalidImageError);
  });

  test('more decodes than a child takes at once wait in the parent and all come back right', async () => {
    const inProcess = createSharpDecoder(LIMITS);
    const pool = make({ processes: 1, threadsPerProcess: 1, queuedPerProcess: 0 });
    const images = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => patternImage(i, 'jpeg', 200 + 100 * i)));
    const [direct, viaPool] = await Promise.all([Promise.all(images.map((b) => inProcess.decode(b))), Promise.all(images.map((b) => pool.decode(b)))]);
    viaPool.forEach((d, i) => expect(Buffer.compare(Buffer.from(d.rgb), Buffer.from(direct[i].rgb))).toBe(0));
  });

  test('close stops the children and refuses further work', async () => {
    const pool = make();
    await pool.decode(await patternImage(5));
    await pool.close();
    await expect(pool.decode(await patternImage(5))).rejects.toThrow('image decoder closed');
  });
});

describe('the decode request pipe', () => {
  test('requests cut anyhow into chunks come out whole, each image in a buffer of its own', () => {
    const a = Buffer.alloc(300_000, 7);
    const b = Buffer.from('tiny');
    const wire = Buffer.concat([requestHeader(1, a.length), a, requestHeader(2, b.length), b, requestHeader(3, 0)]);
    for (const step of [1, 5, 8, 9, 65_536, wire.length]) {
      const got: [number, Buffer][] = [];
      const read = createRequestReader((id, bytes) => got.push([id, bytes]));
      // One reused chunk buffer, as the child reads: what the reader keeps must be a copy.
      const chunk = Buffer.alloc(step);
      for (let at = 0; at < wire.length; at += step) {
        const n = wire.copy(chunk, 0, at, Math.min(at + step, wire.length));
        read(chunk.subarray(0, n));
        chunk.fill(0xee);
      }
      expect(got.map(([id, bytes]) => [id, bytes.length])).toEqual([[1, a.length], [2, b.length], [3, 0]]);
      expect(got[0][1].equals(a)).toBe(true);
      expect(got[1][1].toString()).toBe('tiny');
    }
  });
});
