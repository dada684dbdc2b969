/**
 * Text evidence for Search (issue 12, option textEvidence): the print a query photo shows, read by the
 * OCR stage, against each shortlisted item's text: its catalog image's print (read once per image and
 * OCR version, kept on disk) and the metadata fields named in `fields` (a product name, say). The top
 * `depth` hits are measured by the share of the query's character trigrams found in the item's text;
 * the engine weighs that with the evidence head, or adds `weight` x it (the fixed weights). A query
 * photo without readable text measures nothing.
 *
 * Catalog images are read in the background once the option is on (every item at start-up, and each
 * new one after it is written; embedded catalog), and lazily by the first Search that shortlists an
 * item not read yet (every store: on PostgreSQL each replica reads and keeps its own).
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { TextReader } from './ocr.js';
import { KeyedMemo } from '../evidence/keyed-memo.js';

/** Options of {@link TextEvidence}; defaults of the service in src/config/option-schema.ts. */
export interface TextEvidenceOptions {
  reader: TextReader;
  /** Folder of the stored texts (`<dataDir>/text`); one subfolder per OCR version. */
  dir: string;
  /** Added to a hit's score at full text agreement. */
  weight: number;
  /** How many of the top hits are re-scored. */
  depth: number;
  /** Metadata fields whose values count as the item's text. */
  fields: readonly string[];
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

/** What the evidence needs of the catalog (either store): an item's main image and metadata. */
export interface TextCatalog {
  /** Rejects when there is no such item (deleted since it was shortlisted). */
  get(itemId: string): Promise<{ imageSha256: string; metadata: Record<string, string> }>;
  imageOf(itemId: string): Promise<Uint8Array>;
}

/** Texts kept in memory; older ones are read from disk again. */
const MEMORY_ENTRIES = 50_000;
/** The background reading waits this long after the last Search or upload, and checks again this often. */
const QUIET_MS = 2_000;
const POLL_MS = 500;

export class TextEvidence {
  readonly weight: number;
  readonly depth: number;
  readonly version: string;
  private readonly folder: string;
  private readonly texts = new KeyedMemo<string>(MEMORY_ENTRIES);
  private readonly queue = new Set<string>();
  private draining: Promise<void> | undefined;
  private closed = false;
  private lastActivityMs = -Infinity;
  private busy: () => boolean = () => false;
  /** Ends the background reading's current wait at once (close). */
  private wake: (() => void) | undefined;

  constructor(private readonly o: TextEvidenceOptions) {
    this.weight = o.weight;
    this.depth = o.depth;
    this.version = o.reader.version;
    this.folder = path.join(o.dir, o.reader.version);
  }

  /** The print a query photo shows, one string. */
  async queryText(image: Uint8Array): Promise<string> {
    return (await this.o.reader.read(image, 'query')).map((l) => l.text).join(' ');
  }

  /** An image's print read as a catalog image's, not kept (Compare's other image). */
  async catalogText(image: Uint8Array): Promise<string> {
    return (await this.o.reader.read(image)).map((l) => l.text).join(' ');
  }

  /** A catalog image's print: from memory, from disk, or read now (and kept). */
  imageText(sha256: string, load: () => Promise<Uint8Array>): Promise<string> {
    return this.texts.get(sha256, () => this.readOrLoad(sha256, load));
  }

  /** An item's text: its image's print and its `fields`' values (dashes and underscores as spaces). */
  async itemText(catalog: TextCatalog, itemId: string): Promise<string> {
    const info = await catalog.get(itemId);
    const printed = await this.imageText(info.imageSha256, () => catalog.imageOf(itemId));
    const named = this.o.fields.map((f) => info.metadata[f] ?? '').join(' ').replace(/[-_]+/g, ' ');
    return `${printed} ${named}`.trim();
  }

  /**
   * {@link containment} of the query's print in each item's text, in order; null when the query
   * shows no text. An item deleted since the shortlist was taken, or whose image cannot be read, scores 0.
   */
  async similarities(itemIds: readonly string[], queryText: string, catalog: TextCatalog): Promise<number[] | null> {
    const query = trigramsOf(queryText);
    if (query.size === 0) return null;
    const texts = await Promise.all(itemIds.map((id) => this.itemText(catalog, id).catch(() => '')));
    return texts.map((t) => containment(query, trigramsOf(t)));
  }

  /** A Search started: the background reading waits for a quiet moment (it only warms what Search reads anyway). */
  noteSearch(): void {
    this.lastActivityMs = performance.now();
  }

  /**
   * A catalog image is being uploaded: the background reading waits for uploads to pause too, so that
   * it neither takes the cores an ingest needs nor holds decoded images beside the upload budget's.
   */
  noteUpload(): void {
    this.lastActivityMs = performance.now();
  }

  /** The background reading also waits while `busy()` (the catalog refiner, whose vectors Search needs first). */
  deferTo(busy: () => boolean): void {
    this.busy = busy;
  }

  /**
   * Reads these images in the background (start-up, new items), one at a time, and only while no
   * Search or upload ran in the last 2 s and nothing it defers to is busy: Search reads what it needs itself,
   * so this only saves later Searches the wait. `load` gives an image by its sha256.
   */
  enqueue(images: Iterable<{ imageSha256: string }>, load: (sha256: string) => Promise<Uint8Array>): void {
    for (const it of images) if (!this.texts.has(it.imageSha256)) this.queue.add(it.imageSha256);
    if (this.queue.size > 0 && !this.draining && !this.closed) {
      this.draining = this.drain(load).finally(() => (this.draining = undefined));
    }
  }

  /** Resolves once the background reading has nothing left to read (a benchmark times Search without it). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Stops the background reading after the image in progress, then releases the OCR networks. */
  async close(): Promise<void> {
    this.closed = true;
    this.queue.clear();
    // The wait's timer is unref'd (it must not keep a process alive): without this wake-up, a
    // process with nothing else to do would exit here instead of finishing close.
    this.wake?.();
    await this.draining;
    await this.texts.settled();
    await this.o.reader.close();
  }

  private async drain(load: (sha256: string) => Promise<Uint8Array>): Promise<void> {
    let done = 0;
    const started = Date.now();
    for (const sha of this.queue) {
      while (!this.closed && (this.busy() || performance.now() - this.lastActivityMs < QUIET_MS)) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, POLL_MS).unref();
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
      if (this.closed) return;
      this.queue.delete(sha);
      try {
        await this.imageText(sha, () => load(sha));
        done++;
      } catch (e) {
        this.o.log?.('text evidence: a catalog image could not be read', { sha256: sha, error: (e as Error).message });
      }
    }
    if (done > 0) this.o.log?.('text evidence: catalog images read', { images: done, seconds: (Date.now() - started) / 1000, ocr: this.version });
  }

  private async readOrLoad(sha256: string, load: () => Promise<Uint8Array>): Promise<string> {
    const file = path.join(this.folder, `${sha256}.txt`);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch {
      text = await this.catalogText(await load());
      await fs.mkdir(this.folder, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await fs.writeFile(tmp, text);
      await fs.rename(tmp, file);
    }
    return text;
  }
}

/** Character trigrams of the words of 3+ letters or digits, lower-cased ASCII (accents dropped), each word padded with spaces. */
export function trigramsOf(text: string): Set<string> {
  const grams = new Set<string>();
  const words = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length >= 3);
  for (const w of words) {
    const padded = ` ${w} `;
    for (let i = 0; i + 3 <= padded.length; i++) grams.add(padded.slice(i, i + 3));
  }
  return grams;
}

/** The share of `query`'s trigrams found in `item`'s (0 when either is empty): tolerant of OCR slips, blind to extra print on the item. */
export function containment(query: Set<string>, item: Set<string>): number {
  if (query.size === 0 || item.size === 0) return 0;
  let shared = 0;
  for (const g of query) if (item.has(g)) shared++;
  return shared / query.size;
}

/** {@link containment} of two texts' trigrams. */
export function textSimilarity(query: string, item: string): number {
  return containment(trigramsOf(query), trigramsOf(item));
}
