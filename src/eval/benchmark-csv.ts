import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';

/** A catalog row of a benchmark (`catalog.csv`: item_id, image, optional top_category, any other columns). */
export interface BenchmarkItem {
  itemId: string;
  /** Absolute path of the image. */
  imagePath: string;
  topCategory: string;
  /** Every column but item_id and image, as catalog metadata. */
  metadata: Record<string, string>;
}

/** A query row of a benchmark (`queries.csv`: image, item_id, optional top_category). */
export interface BenchmarkQuery {
  imagePath: string;
  itemId: string;
  topCategory: string;
}

async function readRows(file: string, required: string[]): Promise<Record<string, string>[]> {
  const rows: Record<string, string>[] = parse(await fs.readFile(file, 'utf8'), {
    columns: true,
    skip_empty_lines: true,
    trim: true,
  });
  const missing = required.filter((c) => rows.length > 0 && !(c in rows[0]));
  if (rows.length === 0) throw new Error(`${file}: no rows`);
  if (missing.length) throw new Error(`${file}: missing column(s) ${missing.join(', ')}`);
  return rows;
}

/** Reads a benchmark `catalog.csv`; image paths resolve relative to the csv. */
export async function readCatalogCsv(file: string): Promise<BenchmarkItem[]> {
  const dir = path.dirname(path.resolve(file));
  return (await readRows(file, ['item_id', 'image'])).map((r) => {
    const { item_id, image, ...rest } = r;
    return { itemId: item_id, imagePath: path.resolve(dir, image), topCategory: r.top_category || 'all', metadata: rest };
  });
}

/** Reads a benchmark `queries.csv`; image paths resolve relative to the csv. */
export async function readQueriesCsv(file: string): Promise<BenchmarkQuery[]> {
  const dir = path.dirname(path.resolve(file));
  return (await readRows(file, ['image', 'item_id'])).map((r) => ({
    imagePath: path.resolve(dir, r.image),
    itemId: r.item_id,
    topCategory: r.top_category || 'all',
  }));
}
