import { Client } from 'pg';
import { startPostgres, type PostgresCluster } from '../helpers/postgres.js';

// The throwaway cluster the PostgreSQL suites run on, with pgvector's HNSW index.
describe('throwaway PostgreSQL cluster', () => {
  let pg: PostgresCluster;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg?.destroy();
  });

  test('pgvector >= 0.8 loads and an HNSW cosine index answers a nearest-neighbour query', async () => {
    const c = new Client({ connectionString: await pg.createDatabase('helper') });
    await c.connect();
    try {
      await c.query('create extension vector');
      const { rows } = await c.query(`select extversion from pg_extension where extname = 'vector'`);
      expect(rows[0].extversion).toBe('0.8.6');
      await c.query('create table t (id int primary key, v vector(3))');
      await c.query(`insert into t values (1, '[1,0,0]'), (2, '[0,1,0]'), (3, '[0.9,0.1,0]')`);
      await c.query('create index on t using hnsw (v vector_cosine_ops)');
      const near = await c.query(`select id from t order by v <=> '[1,0,0]' limit 2`);
      expect(near.rows.map((r) => r.id)).toEqual([1, 3]);
    } finally {
      await c.end();
    }
  });
});
