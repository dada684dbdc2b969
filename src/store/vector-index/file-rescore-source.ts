import * as fs from 'node:fs';
import type { RescoreSource } from './hnsw-vector-index.js';

/**
 * Full-precision vectors read from a file of float32 rows (row r at byte r x dim x 4) with one
 * positioned read per candidate: the rescore of a compact (b1) index without holding the vectors
 * in memory. The OS page cache keeps hot rows; cold rows cost one disk read each.
 */
export class FileRescoreSource implements RescoreSource {
  private readonly fd: number;
  private readonly row: Float32Array;
  private readonly bytes: Uint8Array;

  constructor(file: string, readonly dim: number, private readonly rowOf: (key: string) => number) {
    this.fd = fs.openSync(file, 'r');
    this.row = new Float32Array(dim);
    this.bytes = new Uint8Array(this.row.buffer);
  }

  dot(key: string, query: Float32Array): number {
    const r = this.rowOf(key);
    if (r < 0) return NaN;
    const got = fs.readSync(this.fd, this.bytes, 0, this.bytes.length, r * this.bytes.length);
    if (got !== this.bytes.length) return NaN;
    let s = 0;
    for (let j = 0; j < this.dim; j++) s += this.row[j] * query[j];
    return s;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
