/**
 * TextEvidence with a stand-in reader (the real OCR runs in test/text/ocr.test.ts and the real-server
 * suite test/server/text-evidence.test.ts): the trigram containment, the re-scoring of the top hits,
 * the background reading that yields to Search and to busier work, and a close that never waits on a timer.
 */
import * as fs from 'node:fs/promises';
import { containment, TextEvidence, textSimilarity, trigramsOf } from '../../src/text/text-evidence.js';
import type { TextReader } from '../../src/text/ocr.js';
import { makeTempDir } from '../helpers/server.js';

/** Reads an "image" whose bytes are its text, and counts the reads. */
function fakeReader(): TextReader & { reads: number } {
  const r = {
    version: 'fake-1',
    reads: 0,
    async read(image: Uint8Array) {
      r.reads++;
      const text = Buffer.from(image).toString('utf8');
      return text ? [{ text, confidence: 0.9 }] : [];
    },
    async close() {},
  };
  return r;
}

const catalogOf = (items: Record<string, { print: string; name?: string }>) => ({
  get: async (itemId: string) => {
    if (!items[itemId]) throw new Error(`no item ${itemId}`);
    const metadata: Record<string, string> = items[itemId].name ? { name: items[itemId].name! } : {};
    return { imageSha256: `sha-${itemId}`, metadata };
  },
  imageOf: async (itemId: string) => Buffer.from(items[itemId].print),
});

test('trigram containment: the share of the query words found, accents and case ignored, short words skipped', () => {
  expect([...trigramsOf('Ab Milk')].sort()).toEqual([' mi', 'ilk', 'lk ', 'mil']);
  expect(textSimilarity('MILK', 'Fresh milk 1 l')).toBe(1);
  expect(textSimilarity('Crème', 'creme fraiche')).toBe(1);
  expect(textSimilarity('MILX', 'milk')).toBeCloseTo(2 / 4); // one OCR slip keeps half
  expect(textSimilarity('', 'milk')).toBe(0);
  expect(containment(new Set(), new Set(['abc']))).toBe(0);
});

test("each item's share of the query's print, from its image and its fields; a deleted item scores 0; a query without print gives null", async () => {
  const dir = await makeTempDir();
  try {
    const reader = fakeReader();
    const evidence = new TextEvidence({ reader, dir, weight: 0.2, depth: 3, fields: ['name'] });
    const catalog = catalogOf({ a: { print: 'MILK' }, b: { print: 'JUICE' }, c: { print: '', name: 'Apple-Juice' } });
    expect(await evidence.similarities(['a', 'gone', 'b', 'c'], 'juice', catalog)).toEqual([0, 0, 1, 1]); // c: by its name field
    expect(await evidence.similarities(['a'], '', catalog)).toBeNull();
    expect(await evidence.similarities(['a'], 'a !', catalog)).toBeNull(); // no word of 3+ letters
    // Each image read once, then kept on disk under the reader's version.
    const before = reader.reads;
    expect(await evidence.similarities(['b'], 'JUICE', catalog)).toEqual([1]);
    expect(reader.reads).toBe(before);
    expect(await fs.readFile(`${dir}/fake-1/sha-b.txt`, 'utf8')).toBe('JUICE');
    await evidence.close();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('the background reading waits while busier work runs, and close ends the wait without its timer', async () => {
  const dir = await makeTempDir();
  jest.useFakeTimers();
  try {
    const reader = fakeReader();
    const evidence = new TextEvidence({ reader, dir, weight: 0.2, depth: 20, fields: [] });
    let busy = true;
    evidence.deferTo(() => busy);
    evidence.enqueue([{ imageSha256: 'x' }], async () => Buffer.from('PRINT'));
    await Promise.resolve();
    jest.advanceTimersByTime(5_000);
    await Promise.resolve();
    expect(reader.reads).toBe(0); // still busy: nothing read
    // Timers frozen: close must not depend on the wait's timer firing.
    await evidence.close();
    expect(reader.reads).toBe(0);
    busy = false;
  } finally {
    jest.useRealTimers();
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('the background reading waits until uploads pause for 2 s, then reads', async () => {
  const dir = await makeTempDir();
  try {
    const reader = fakeReader();
    const evidence = new TextEvidence({ reader, dir, weight: 0.2, depth: 20, fields: [] });
    evidence.noteUpload();
    evidence.enqueue([{ imageSha256: 'x' }], async () => Buffer.from('PRINT'));
    // Uploads keep coming (every 250 ms for 3 s, real time): nothing is read meanwhile.
    for (let i = 0; i < 12; i++) {
      await new Promise((r) => setTimeout(r, 250));
      evidence.noteUpload();
    }
    expect(reader.reads).toBe(0);
    // They stop: the image is read once 2 s have passed without one.
    await evidence.idle();
    expect(reader.reads).toBe(1);
    await evidence.close();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}, 30_000);
