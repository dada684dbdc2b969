import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';

/**
 * A catalog row of a benchmark (`catalog.csv`: item_id, image, optional top_category and label, any
 * other columns). Item ids are unique; items that share a class share a `label`.
 */
export interface BenchmarkItem {
  itemId: string;
  /** Absolute path of the image. */
  imagePath: string;
  topCategory: string;
  /** The optional `label` column (a class many items may share: "round brown watch"); '' when absent. */
  label: string;
  /** Every column but item_id and image, as catalog metadata. */
  metadata: Record<string, string>;
}

/**
 * A query row of a benchmark (`queries.csv`: image, item_id, optional top_category and label). A
 * row may leave item_id empty when it has a label: a photo of something not in the catalog, judged
 * by whether the hits share its label.
 */
export interface BenchmarkQuery {
  imagePath: string;
  /** The catalog item the photo shows; '' for a label-only query. */
  itemId: string;
  topCategory: string;
  /** The optional `label` column; '' when absent. */
  label: string;
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

/** Reads a benchmark `catalog.csv`; image paths resolve relative to the csv; labels from `labelColumn`. */
export async function readCatalogCsv(file: string, labelColumn = 'label'): Promise<BenchmarkItem[]> {
  const dir = path.dirname(path.resolve(file));
  const rows = await readRows(file, ['item_id', 'image']);
  const firstRow = new Map<string, number>();
  return rows.map((r, i) => {
    const { item_id, image, ...rest } = r;
    // Row numbers as an editor shows them: the header is line 1.
    const seen = firstRow.get(item_id);
    if (seen !== undefined) {
      throw new Error(`${file}: item_id '${item_id}' is on rows ${seen} and ${i + 2}; item ids must be unique (items that share a class share a 'label' column)`);
    }
    firstRow.set(item_id, i + 2);
    return { itemId: item_id, imagePath: path.resolve(dir, image), topCategory: r.top_category || 'all', label: r[labelColumn] ?? '', metadata: rest };
  });
}

/** Reads a benchmark `queries.csv`; image paths resolve relative to the csv; labels from `labelColumn`. */
export async function readQueriesCsv(file: string, labelColumn = 'label'): Promise<BenchmarkQuery[]> {
  const dir = path.dirname(path.resolve(file));
  const rows = await readRows(file, ['image']);
  if (!('item_id' in rows[0]) && !(labelColumn in rows[0])) throw new Error(`${file}: missing column(s) item_id (or ${labelColumn})`);
  return rows.map((r, i) => {
    if (!r.item_id && !r[labelColumn]) throw new Error(`${file}: row ${i + 2} has neither an item_id nor a ${labelColumn}`);
    return { imagePath: path.resolve(dir, r.image), itemId: r.item_id ?? '', topCategory: r.top_category || 'all', label: r[labelColumn] ?? '' };
  });
}
