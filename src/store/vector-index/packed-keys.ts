import * as fs from 'node:fs';

const EMPTY = 0;
const TOMBSTONE = 0xffff_ffff;
/** Most table slots in use (live + tombstones) before the table grows. */
const MAX_LOAD = 0.75;
const MAGIC = 0x314b_4c54; // 'TLK1'
const HEADER_WORDS = 4;

/**
 * String keys numbered by dense labels (0, 1, 2... in order of first insertion), held without
 * one JavaScript string per key: the UTF-8 bytes of every key back to back in one buffer, a start
 * offset per label, a live bit per label and an open-addressing hash table of labels for
 * key -> label. About (key length + 4 + 0.125 + 4 / load factor) bytes per key, against ~40-85 for a
 * Map<string, number> plus an array of strings in the V8 heap (measured; README). Labels are
 * never reused: a removed key's bytes stay until the keys are rewritten (a rebuild). Key bytes
 * are addressed with 32-bit offsets, so all keys together may take at most 4 GiB.
 */
export class PackedKeys {
  private bytes: Uint8Array;
  private buf: Buffer;
  private used = 0;
  /** starts[l]..starts[l + 1] are the bytes of label l. */
  private starts: Uint32Array;
  private alive: Uint8Array;
  private labels = 0;
  private live = 0;
  /** Slots: EMPTY, TOMBSTONE or label + 1. */
  private table: Uint32Array;
  private occupied = 0;
  private scratch = new Uint8Array(256);

  constructor(expectedKeys = 16, expectedBytes = expectedKeys * 16) {
    this.bytes = new Uint8Array(Math.max(64, expectedBytes));
    this.buf = Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    this.starts = new Uint32Array(Math.max(16, expectedKeys) + 1);
    this.alive = new Uint8Array(Math.ceil(this.starts.length / 8));
    this.table = new Uint32Array(tableSize(expectedKeys));
  }

  /** Live keys. */
  get size(): number {
    return this.live;
  }

  /** Labels handed out so far (the next new key gets this one). */
  get labelCount(): number {
    return this.labels;
  }

  /** Bytes of the typed arrays (spare capacity included; untouched pages are not resident). */
  get memoryBytes(): number {
    return this.bytes.byteLength + this.starts.byteLength + this.alive.byteLength + this.table.byteLength;
  }

  /** The label of `key`, or -1. */
  labelOf(key: string): number {
    const n = this.encode(key);
    const slot = this.find(this.scratch, n, hashBytes(this.scratch, n));
    return slot < 0 ? -1 : this.table[slot] - 1;
  }

  has(key: string): boolean {
    return this.labelOf(key) >= 0;
  }

  /** The key of a live label, else undefined. */
  keyAt(label: number): string | undefined {
    if (!(label >= 0 && label < this.labels) || !(this.alive[label >> 3] & (1 << (label & 7)))) return undefined;
    return this.buf.toString('utf8', this.starts[label], this.starts[label + 1]);
  }

  /** Adds a key that is not present and returns its new label (the existing label if present). */
  add(key: string): number {
    const n = this.encode(key);
    const h = hashBytes(this.scratch, n);
    const found = this.find(this.scratch, n, h);
    if (found >= 0) return this.table[found] - 1;
    const label = this.appendLabel(this.scratch, n);
    this.insertSlot(label, h);
    return label;
  }

  /** Removes `key`; returns the label it had, or -1. */
  delete(key: string): number {
    const n = this.encode(key);
    const slot = this.find(this.scratch, n, hashBytes(this.scratch, n));
    if (slot < 0) return -1;
    const label = this.table[slot] - 1;
    this.table[slot] = TOMBSTONE;
    this.alive[label >> 3] &= ~(1 << (label & 7));
    this.live--;
    return label;
  }

  /** [label, key] of every live key, in label order. */
  pairs(): [number, string][] {
    const out: [number, string][] = [];
    for (let l = 0; l < this.labels; l++) {
      const key = this.keyAt(l);
      if (key !== undefined) out.push([l, key]);
    }
    return out;
  }

  /** Rebuilds from [label, key] pairs (any order; labels below `labelCount`, keys distinct). */
  static fromPairs(pairs: readonly (readonly [number, string])[], labelCount: number): PackedKeys {
    const sorted = [...pairs].sort((a, b) => a[0] - b[0]);
    let bytes = 0;
    for (const [, key] of sorted) bytes += Buffer.byteLength(key, 'utf8');
    const keys = new PackedKeys(Math.max(labelCount, sorted.length), bytes);
    let next = 0;
    for (const [label, key] of sorted) {
      if (!Number.isInteger(label) || label < next || label >= labelCount) {
        throw new RangeError(`labels: expected distinct integers below ${labelCount}, received ${label}`);
      }
      while (keys.labels < label) keys.appendLabel(keys.scratch, 0);
      const n = keys.encode(key);
      const h = hashBytes(keys.scratch, n);
      if (keys.find(keys.scratch, n, h) >= 0) throw new RangeError(`labels: key ${JSON.stringify(key)} appears twice`);
      keys.insertSlot(keys.appendLabel(keys.scratch, n), h);
      next = label + 1;
    }
    while (keys.labels < labelCount) keys.appendLabel(keys.scratch, 0);
    return keys;
  }

  /** Writes the keys to `file` (header, start offsets, live bits, key bytes; no hash table). */
  writeFile(file: string): void {
    const header = new Uint32Array([MAGIC, this.labels, this.live, this.used]);
    const fd = fs.openSync(file, 'w');
    try {
      const parts = [header, this.starts.subarray(0, this.labels + 1), this.alive.subarray(0, Math.ceil(this.labels / 8)), this.bytes.subarray(0, this.used)];
      for (const p of parts) fs.writeSync(fd, new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * Reads a file `writeFile` wrote. The arrays are sized exactly and the hash table is rebuilt
   * (one pass over the keys); a torn or foreign file is refused.
   */
  static readFile(file: string): PackedKeys {
    const read = fs.readFileSync(file);
    // The arrays below are views into the file's bytes (no second copy); they need a 4-aligned start.
    const raw = read.byteOffset % 4 === 0 ? read : new Uint8Array(read);
    if (raw.byteLength < HEADER_WORDS * 4) throw new Error(`${file}: too short for a key file`);
    const [magic, labels, live, used] = new Uint32Array(raw.buffer, raw.byteOffset, HEADER_WORDS);
    const startsBytes = (labels + 1) * 4;
    const aliveBytes = Math.ceil(labels / 8);
    if (magic !== MAGIC || raw.byteLength !== HEADER_WORDS * 4 + startsBytes + aliveBytes + used) {
      throw new Error(`${file}: not a complete key file (magic or length mismatch)`);
    }
    const keys = new PackedKeys(0, 0);
    let at = raw.byteOffset + HEADER_WORDS * 4;
    keys.starts = new Uint32Array(raw.buffer, at, labels + 1);
    at += startsBytes;
    keys.alive = new Uint8Array(raw.buffer, at, aliveBytes);
    at += aliveBytes;
    keys.bytes = new Uint8Array(raw.buffer, at, used);
    keys.buf = Buffer.from(keys.bytes.buffer, keys.bytes.byteOffset, keys.bytes.byteLength);
    keys.used = used;
    keys.labels = labels;
    keys.table = new Uint32Array(tableSize(live));
    for (let l = 0; l < labels; l++) {
      if (!(keys.alive[l >> 3] & (1 << (l & 7)))) continue;
      const s = keys.starts[l];
      const e = keys.starts[l + 1];
      if (!(s <= e && e <= used)) throw new Error(`${file}: key offsets out of order at label ${l}`);
      keys.insertSlot(l, hashBytes(keys.bytes, e - s, s));
    }
    if (keys.live !== live) throw new Error(`${file}: ${keys.live} live keys, header says ${live}`);
    return keys;
  }

  /** UTF-8 bytes of `key` into the scratch buffer; returns their length. */
  private encode(key: string): number {
    let r = this.scratchEncode(key);
    while (r.read < key.length) {
      this.scratch = new Uint8Array(this.scratch.length * 2 + key.length * 3);
      r = this.scratchEncode(key);
    }
    return r.written;
  }

  private scratchEncode(key: string): { read: number; written: number } {
    const r = ENCODER.encodeInto(key, this.scratch);
    return { read: r.read ?? 0, written: r.written ?? 0 };
  }

  /** The table slot holding the key `src[0..n)` with hash `h`, or -1. */
  private find(src: Uint8Array, n: number, h: number): number {
    const cap = this.table.length;
    for (let slot = h % cap, probes = 0; probes < cap; slot = slot + 1 === cap ? 0 : slot + 1, probes++) {
      const v = this.table[slot];
      if (v === EMPTY) return -1;
      if (v === TOMBSTONE) continue;
      const l = v - 1;
      const s = this.starts[l];
      if (this.starts[l + 1] - s !== n) continue;
      let same = true;
      for (let i = 0; i < n; i++) {
        if (this.bytes[s + i] !== src[i]) {
          same = false;
          break;
        }
      }
      if (same) return slot;
    }
    return -1;
  }

  private insertSlot(label: number, h: number): void {
    if ((this.occupied + 1) / this.table.length > MAX_LOAD) this.rehash(tableSize(Math.max(this.live + 1, 16) * 2));
    const cap = this.table.length;
    let slot = h % cap;
    while (this.table[slot] !== EMPTY && this.table[slot] !== TOMBSTONE) slot = slot + 1 === cap ? 0 : slot + 1;
    if (this.table[slot] === EMPTY) this.occupied++;
    this.table[slot] = label + 1;
    this.alive[label >> 3] |= 1 << (label & 7);
    this.live++;
  }

  /** A new table of `size` slots holding the live labels (tombstones dropped). */
  private rehash(size: number): void {
    const old = this.table;
    this.table = new Uint32Array(size);
    this.occupied = 0;
    const cap = size;
    for (let i = 0; i < old.length; i++) {
      const v = old[i];
      if (v === EMPTY || v === TOMBSTONE) continue;
      const l = v - 1;
      let slot = hashBytes(this.bytes, this.starts[l + 1] - this.starts[l], this.starts[l]) % cap;
      while (this.table[slot] !== EMPTY) slot = slot + 1 === cap ? 0 : slot + 1;
      this.table[slot] = v;
      this.occupied++;
    }
  }

  /** Appends the bytes of a new label (live bit left to insertSlot) and returns the label. */
  private appendLabel(src: Uint8Array, n: number): number {
    if (this.used + n > 0xffff_ffff) throw new RangeError('PackedKeys: keys take more than 4 GiB in all');
    if (this.used + n > this.bytes.length) {
      const grown = new Uint8Array(Math.min(0xffff_ffff, Math.max(this.bytes.length * 2, this.used + n)));
      grown.set(this.bytes.subarray(0, this.used));
      this.bytes = grown;
      this.buf = Buffer.from(grown.buffer, grown.byteOffset, grown.byteLength);
    }
    if (this.labels + 2 > this.starts.length) {
      const grown = new Uint32Array(this.starts.length * 2);
      grown.set(this.starts);
      this.starts = grown;
      const alive = new Uint8Array(Math.ceil(grown.length / 8));
      alive.set(this.alive);
      this.alive = alive;
    }
    this.bytes.set(src.subarray(0, n), this.used);
    const label = this.labels++;
    this.starts[label] = this.used;
    this.used += n;
    this.starts[label + 1] = this.used;
    return label;
  }
}

const ENCODER = new TextEncoder();

/** Slots for `n` keys at most MAX_LOAD full (not a power of two: slots are picked modulo). */
function tableSize(n: number): number {
  return Math.max(8, Math.ceil(n / MAX_LOAD) + 1);
}

/** FNV-1a over bytes, as an unsigned 32-bit integer. */
function hashBytes(src: Uint8Array, n: number, from = 0): number {
  let h = 0x811c9dc5;
  for (let i = from; i < from + n; i++) {
    h ^= src[i];
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
