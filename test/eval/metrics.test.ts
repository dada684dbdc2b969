import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { metricsOf, readCatalogCsv, readQueriesCsv, reportOf } from '../../src/eval/index.js';

describe('retrieval metrics', () => {
  it('computes Recall@1, Recall@5 and MRR, overall and per category', () => {
    const r = reportOf(
      [
        { category: 'A', rank: 1 },
        { category: 'A', rank: 3 },
        { category: 'B', rank: 6 },
        { category: 'B', rank: null },
      ],
      'embedding',
    );
    expect(r.n).toBe(4);
    expect(r.overall.recall_at_1).toBeCloseTo(0.25);
    expect(r.overall.recall_at_5).toBeCloseTo(0.5);
    expect(r.overall.mrr).toBeCloseTo((1 + 1 / 3 + 1 / 6 + 0) / 4);
    expect(r.by_category.A).toEqual({ n: 2, recall_at_1: 0.5, recall_at_5: 1, mrr: (1 + 1 / 3) / 2 });
    expect(r.by_category.B.recall_at_5).toBe(0);
    expect(metricsOf([]).recall_at_1).toBe(0);
  });
});

describe('benchmark csv', () => {
  it('reads the shared format with quoted fields and resolves images next to the csv', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csv-'));
    fs.writeFileSync(path.join(dir, 'catalog.csv'), 'item_id,name,top_category,image\n7,"Milk, oat",Packages,catalog/7.jpg\n');
    fs.writeFileSync(path.join(dir, 'queries.csv'), 'image,item_id\nphotos/q.jpg,7\n');
    const [item] = await readCatalogCsv(path.join(dir, 'catalog.csv'));
    expect(item).toEqual({
      itemId: '7',
      imagePath: path.join(dir, 'catalog/7.jpg'),
      topCategory: 'Packages',
      label: '',
      metadata: { name: 'Milk, oat', top_category: 'Packages' },
    });
    const [q] = await readQueriesCsv(path.join(dir, 'queries.csv'));
    expect(q).toEqual({ imagePath: path.join(dir, 'photos/q.jpg'), itemId: '7', topCategory: 'all', label: '' });
    fs.writeFileSync(path.join(dir, 'bad.csv'), 'id,img\n1,x\n');
    await expect(readCatalogCsv(path.join(dir, 'bad.csv'))).rejects.toThrow(/missing column\(s\) item_id, image/);
  });
});
