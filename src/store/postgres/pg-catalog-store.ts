import pg from 'pg';
import { FailedPreconditionError, ItemNotFoundError, ServiceUnavailableError } from '../../errors/index.js';
import {
  BlobStore,
  type CatalogItemInfo,
  type NewCatalogItem,
  rowKeyOf,
  splitRowKey,
  validateItemId,
  validateMetadata,
  validateView,
  parseExampleView,
} from '../catalog/index.js';
import { fromFloat16, toFloat16 } from '../catalog/float16.js';
import type { CatalogStore, CatalogStoreStats } from '../catalog-store.js';
import type { IndexHit, MetadataFilter } from '../vector-index/index.js';

/** How the PostgreSQL store connects and searches (options store=postgres, postgres*). */
export interface PgCatalogStoreOptions {
  /** libpq-style URL, e.g. postgresql://twinlens@db:5432/twinlens. */
  url: string;
  /** Connections this process keeps to the database. Default 8. */
  poolSize?: number;
  /** HNSW candidate list per query (`hnsw.ef_search`): recall against latency. Default 100. */
  efSearch?: number;
  /** How long a call waits for a connection before failing with UNAVAILABLE, in ms. Default 5,000. */
  connectTimeoutMs?: number;
}

/**
 * SQLSTATE classes and client errors that mean "the database cannot be reached now": the call is
 * answered UNAVAILABLE (the client may retry) rather than INTERNAL.
 */
function isUnreachable(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  const code = err?.code ?? '';
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN'].includes(code)) return true;
  // 08: connection exception; 57P01-03: admin shutdown, crash shutdown, cannot connect now.
  if (/^08/.test(code) || /^57P0[1-3]$/.test(code)) return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable/i.test(err?.message ?? '');
}

/** pgvector's text form of a vector. */
function vectorText(v: Float32Array): string {
  return `[${Array.from(v).join(',')}]`;
}

function parseVector(text: string): Float32Array {
  return Float32Array.from(JSON.parse(text) as number[]);
}

/** The database URL without its password, for GetCatalogStats. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres';
  }
}

interface RowRecord {
  row_key: string;
  metadata: Record<string, string>;
  model_version: string;
  image_sha256: string;
  image_bytes: number;
  updated_at_ms: number;
  simulated_views: number | null;
}

function infoFrom(r: RowRecord): CatalogItemInfo {
  return {
    itemId: r.row_key,
    metadata: r.metadata,
    modelVersion: r.model_version,
    imageSha256: r.image_sha256,
    imageBytes: Number(r.image_bytes),
    updatedAtMs: Number(r.updated_at_ms),
    simulatedViews: r.simulated_views === null ? null : Number(r.simulated_views),
  };
}

const INFO_COLUMNS = 'row_key, metadata, model_version, image_sha256, image_bytes, updated_at_ms, simulated_views';

/**
 * The vector index: HNSW over the vectors cast to halfvec (2 bytes a value), cosine (rows are unit
 * vectors); the table keeps them in full precision and Search rescores the candidates with those.
 * Measured at 100,000 x 256-d (docs/scale-out.md): the index is 40% smaller than a full-precision
 * one at the same recall@10. M 16 and ef_construction 64 are pgvector's defaults. A bulk load drops
 * it, inserts, then runs this again (building once is far faster than inserting into it).
 */
export function hnswIndexSql(dim: number): string {
  return `create index if not exists twinlens_rows_hnsw on twinlens_rows using hnsw ((embedding::halfvec(${dim})) halfvec_cosine_ops) with (m = 16, ef_construction = 64)`;
}

/** Advisory lock key of schema creation and model binding (any constant both replicas agree on). */
const SCHEMA_LOCK = 0x7477_6c6e; // 'twln'

/**
 * The catalog in PostgreSQL with pgvector: one row per item image or view (`twinlens_rows`, row key
 * `item` or `item#view` as in the embedded catalog), vectors in an HNSW index (cosine on unit
 * vectors, halfvec with a full-precision rescore), metadata as jsonb with a GIN index for filters, source images in a bytea table
 * (`twinlens_images`, content-addressed), and the catalog's model binding in `twinlens_catalog`.
 * Every call reads the database, so any number of replicas share one catalog and see each other's
 * writes once they are acknowledged (committed). Filtered searches use pgvector's iterative index
 * scans (`hnsw.iterative_scan = relaxed_order`), so a rare filter still fills k hits.
 *
 * Not built on this store: confirmed examples, background refinement and re-embedding for a new
 * model version (a server refuses to start when the database is bound to another model version).
 */
export class PgCatalogStore implements CatalogStore {
  readonly kind = 'postgres' as const;

  private constructor(
    private readonly pool: pg.Pool,
    readonly modelVersion: string,
    readonly dim: number,
    readonly localLength: number,
    private readonly url: string,
    private readonly efSearch: number,
  ) {}

  /**
   * Connects, creates the schema when missing and binds the catalog to `modelVersion`: an empty
   * catalog takes the serving model's version and dimension; one that holds vectors of another
   * version or dimension is refused (FailedPreconditionError).
   */
  static async open(o: PgCatalogStoreOptions, dim: number, modelVersion: string, localLength = 0): Promise<PgCatalogStore> {
    const efSearch = o.efSearch ?? 100;
    const pool = new pg.Pool({
      connectionString: o.url,
      max: o.poolSize ?? 8,
      connectionTimeoutMillis: o.connectTimeoutMs ?? 5000,
      // Every connection searches with these (pgvector reads them when it loads).
      options: `-c hnsw.ef_search=${efSearch} -c hnsw.iterative_scan=relaxed_order`,
    });
    // An idle connection that the server dropped (restart) must not crash the process.
    pool.on('error', () => undefined);
    try {
      await withClient(pool, async (c) => {
        await c.query('begin');
        try {
          await c.query('select pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
          await c.query('create extension if not exists vector');
          await c.query(`create table if not exists twinlens_catalog (
            id int primary key check (id = 1), model_version text not null, dim int not null, local_length int not null)`);
          const bound = await c.query<{ model_version: string; dim: number; local_length: number }>('select model_version, dim, local_length from twinlens_catalog');
          const rowsExist = (await c.query(`select to_regclass('twinlens_rows') is not null as t`)).rows[0].t as boolean;
          const held = rowsExist ? ((await c.query('select exists (select 1 from twinlens_rows) as e')).rows[0].e as boolean) : false;
          const b = bound.rows[0];
          if (b && (b.model_version !== modelVersion || b.dim !== dim || b.local_length !== localLength)) {
            if (held) {
              throw new FailedPreconditionError(
                `the PostgreSQL catalog holds vectors of model ${b.model_version} (${b.dim}-d); this server's model is ${modelVersion} (${dim}-d). ` +
                  'Re-embedding on store=postgres is not built: serve the catalog with its model, or load it anew into an empty database',
              );
            }
            await c.query('drop table if exists twinlens_rows');
          }
          await c.query(
            `insert into twinlens_catalog (id, model_version, dim, local_length) values (1, $1, $2, $3)
             on conflict (id) do update set model_version = excluded.model_version, dim = excluded.dim, local_length = excluded.local_length`,
            [modelVersion, dim, localLength],
          );
          await c.query('create table if not exists twinlens_images (sha256 text primary key, bytes bytea not null)');
          await c.query(`create table if not exists twinlens_rows (
            row_key text collate "C" primary key,
            item_id text collate "C" not null,
            view text not null,
            metadata jsonb not null,
            embedding vector(${dim}) not null,
            local bytea,
            model_version text not null,
            image_sha256 text not null references twinlens_images (sha256),
            image_bytes bigint not null,
            updated_at_ms double precision not null,
            simulated_views int)`);
          await c.query('create index if not exists twinlens_rows_item on twinlens_rows (item_id)');
          await c.query('create index if not exists twinlens_rows_image on twinlens_rows (image_sha256)');
          await c.query('create index if not exists twinlens_rows_metadata on twinlens_rows using gin (metadata jsonb_path_ops)');
          await c.query(hnswIndexSql(dim));
          await c.query('commit');
        } catch (e) {
          await c.query('rollback').catch(() => undefined);
          throw e;
        }
      });
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw e;
    }
    return new PgCatalogStore(pool, modelVersion, dim, localLength, o.url, efSearch);
  }

  /** Runs `fn` on the pool, answering UNAVAILABLE when the database cannot be reached. */
  private async q<T>(fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
    try {
      return await fn(this.pool);
    } catch (e) {
      if (isUnreachable(e)) throw new ServiceUnavailableError(`the catalog database cannot be reached: ${(e as Error).message}`, { cause: e });
      throw e;
    }
  }

  /** Resolves when the database answers (Health); rejects with ServiceUnavailableError otherwise. */
  async ping(): Promise<void> {
    await this.q((p) => p.query('select 1'));
  }

  upsert(items: NewCatalogItem[]): Promise<boolean[]> {
    for (const item of items) {
      validateItemId(item.itemId);
      if (parseExampleView(item.view ?? '')) throw new FailedPreconditionError('confirmed examples need the embedded catalog (option store=embedded)');
      validateView(item.view);
      validateMetadata(item.metadata);
      if (item.embedding.length !== this.dim) {
        throw new RangeError(`embedding of '${item.itemId}' has ${item.embedding.length} dims, the catalog ${this.dim}`);
      }
      if ((item.local?.length ?? 0) !== this.localLength) {
        throw new RangeError(`local features of '${item.itemId}' have ${item.local?.length ?? 0} values, the catalog ${this.localLength}`);
      }
    }
    return this.q(async (pool) => {
      // The last occurrence of a row key in one call wins, as if they had been sent one by one.
      const byKey = new Map<string, NewCatalogItem>();
      for (const item of items) byKey.set(rowKeyOf(item.itemId, item.view), item);
      const now = Date.now();
      const images = new Map<string, Uint8Array>();
      const shaOf = new Map<string, string>();
      for (const [key, item] of byKey) {
        const sha = BlobStore.sha256(item.image);
        images.set(sha, item.image);
        shaOf.set(key, sha);
      }
      const existed = await withClient(pool, async (c) => {
        await c.query('begin');
        try {
          const shas = [...images.keys()];
          await c.query(
            `insert into twinlens_images (sha256, bytes) select * from unnest($1::text[], $2::bytea[]) on conflict (sha256) do nothing`,
            [shas, shas.map((s) => Buffer.from(images.get(s)!))],
          );
          const keys = [...byKey.keys()];
          const params: unknown[] = [];
          const values = keys.map((key) => {
            const item = byKey.get(key)!;
            const { itemId, view } = splitRowKey(key);
            const local = item.local ? toFloat16(item.local) : null;
            params.push(
              key,
              itemId,
              view,
              JSON.stringify(item.metadata),
              vectorText(item.embedding),
              local ? Buffer.from(local.buffer, local.byteOffset, local.byteLength) : null,
              this.modelVersion,
              shaOf.get(key),
              item.image.length,
              now,
              item.simulatedViews ?? null,
            );
            const n = params.length - 11;
            return `(${Array.from({ length: 11 }, (_, i) => `$${n + i + 1}`).join(', ')})`;
          });
          const res = await c.query<{ row_key: string; inserted: boolean }>(
            `insert into twinlens_rows (row_key, item_id, view, metadata, embedding, local, model_version, image_sha256, image_bytes, updated_at_ms, simulated_views)
             values ${values.join(', ')}
             on conflict (row_key) do update set metadata = excluded.metadata, embedding = excluded.embedding, local = excluded.local,
               model_version = excluded.model_version, image_sha256 = excluded.image_sha256, image_bytes = excluded.image_bytes,
               updated_at_ms = excluded.updated_at_ms, simulated_views = excluded.simulated_views
             returning row_key, (xmax = 0) as inserted`,
            params,
          );
          await c.query('commit');
          return new Set(res.rows.filter((r) => !r.inserted).map((r) => r.row_key));
        } catch (e) {
          await c.query('rollback').catch(() => undefined);
          throw e;
        }
      });
      const seen = new Set<string>();
      return items.map((i) => {
        const key = rowKeyOf(i.itemId, i.view);
        const replaced = existed.has(key) || seen.has(key);
        seen.add(key);
        return replaced;
      });
    });
  }

  delete(itemId: string, view = ''): Promise<boolean> {
    validateItemId(itemId);
    validateView(view);
    return this.q(async (pool) => {
      const res = view
        ? await pool.query<{ image_sha256: string }>('delete from twinlens_rows where row_key = $1 returning image_sha256', [rowKeyOf(itemId, view)])
        : await pool.query<{ image_sha256: string }>('delete from twinlens_rows where item_id = $1 returning image_sha256', [itemId]);
      if (res.rowCount === 0) return false;
      // Images no row references any more. A concurrent upsert that references one holds a key-share
      // lock on it (the foreign key), so this delete then fails rather than lose its image: best effort.
      await pool
        .query(
          `delete from twinlens_images i where i.sha256 = any($1::text[])
           and not exists (select 1 from twinlens_rows r where r.image_sha256 = i.sha256)`,
          [[...new Set(res.rows.map((r) => r.image_sha256))]],
        )
        .catch(() => undefined);
      return true;
    });
  }

  async has(itemId: string): Promise<boolean> {
    validateItemId(itemId);
    return this.q(async (pool) => (await pool.query('select 1 from twinlens_rows where row_key = $1', [itemId])).rowCount! > 0);
  }

  async get(itemId: string): Promise<CatalogItemInfo> {
    validateItemId(itemId);
    const rows = await this.q(async (pool) => (await pool.query<RowRecord>(`select ${INFO_COLUMNS} from twinlens_rows where row_key = $1`, [itemId])).rows);
    if (rows.length === 0) throw new ItemNotFoundError(itemId);
    return infoFrom(rows[0]);
  }

  async embeddingOf(itemId: string): Promise<Float32Array> {
    validateItemId(itemId);
    const rows = await this.q(async (pool) => (await pool.query<{ e: string }>('select embedding::text as e from twinlens_rows where row_key = $1', [itemId])).rows);
    if (rows.length === 0) throw new ItemNotFoundError(itemId);
    return parseVector(rows[0].e);
  }

  async localOf(itemId: string): Promise<Float32Array | null> {
    validateItemId(itemId);
    const rows = await this.q(async (pool) => (await pool.query<{ local: Buffer | null }>('select local from twinlens_rows where row_key = $1', [itemId])).rows);
    if (rows.length === 0) throw new ItemNotFoundError(itemId);
    const cell = rows[0].local;
    if (!cell || cell.byteLength === 0) return null;
    const copy = new Uint8Array(cell);
    return fromFloat16(new Uint16Array(copy.buffer, 0, copy.byteLength >> 1));
  }

  async imageOf(itemId: string): Promise<Buffer> {
    validateItemId(itemId);
    const rows = await this.q(
      async (pool) =>
        (await pool.query<{ bytes: Buffer }>('select i.bytes from twinlens_rows r join twinlens_images i on i.sha256 = r.image_sha256 where r.row_key = $1', [itemId])).rows,
    );
    if (rows.length === 0) throw new ItemNotFoundError(itemId);
    return rows[0].bytes;
  }

  async list(afterId: string, limit: number): Promise<{ items: CatalogItemInfo[]; more: boolean }> {
    const rows = await this.q(
      async (pool) =>
        (
          await pool.query<RowRecord>(`select ${INFO_COLUMNS} from twinlens_rows where view = '' and row_key > $1 order by row_key limit $2`, [
            afterId,
            limit + 1,
          ])
        ).rows,
    );
    return { items: rows.slice(0, limit).map(infoFrom), more: rows.length > limit };
  }

  async count(): Promise<number> {
    return this.q(async (pool) => Number((await pool.query<{ n: string }>(`select count(*) as n from twinlens_rows where view = ''`)).rows[0].n));
  }

  /**
   * Nearest rows by cosine distance through the HNSW index, the filter as a jsonb containment in the
   * same query (iterative scan: the index is walked further until k rows pass it); each item counts
   * once, by its best view. Rows are over-fetched so items with several views still fill k.
   */
  async search(query: Float32Array, k: number, filter?: MetadataFilter): Promise<{ hits: IndexHit[]; scanned: number }> {
    if (query.length !== this.dim) throw new RangeError(`query has ${query.length} dims, the catalog ${this.dim}`);
    const where = filter && Object.keys(filter).length > 0 ? 'where metadata @> $3::jsonb' : '';
    let limit = Math.max(k * 2, k + 8);
    for (;;) {
      const params: unknown[] = [vectorText(query), limit];
      if (where) params.push(JSON.stringify(filter));
      const rows = await this.q(
        async (pool) =>
          (
            await pool.query<{ item_id: string; view: string; metadata: Record<string, string>; d: number }>(
              // Candidates in the halfvec index's order; `d` is the full-precision distance (rescore).
              `select item_id, view, metadata, embedding <=> $1::vector as d from twinlens_rows ${where}
               order by embedding::halfvec(${this.dim}) <=> $1::halfvec(${this.dim}) limit $2`,
              params,
            )
          ).rows,
      );
      // Rescored (and relaxed_order may return rows slightly out of order): sort by the full-precision
      // distance, then keep each item's best view.
      rows.sort((a, b) => a.d - b.d);
      const hits: IndexHit[] = [];
      const seen = new Set<string>();
      for (const r of rows) {
        if (seen.has(r.item_id)) continue;
        seen.add(r.item_id);
        hits.push({ itemId: r.item_id, score: 1 - r.d, metadata: r.metadata, view: r.view });
        if (hits.length === k) break;
      }
      if (hits.length === k || rows.length < limit) return { hits, scanned: rows.length };
      limit *= 4;
    }
  }

  async stats(): Promise<CatalogStoreStats> {
    const [itemCount, dataBytes] = await Promise.all([
      this.count(),
      this.q(async (pool) => Number((await pool.query<{ n: string }>('select pg_database_size(current_database()) as n')).rows[0].n)),
    ]);
    return { itemCount, indexBytes: 0, indexKind: `pgvector hnsw cosine halfvec+rescore M16 efc64 ef${this.efSearch}`, dataBytes, dataDir: redact(this.url) };
  }

  /** Every acknowledged write is committed already. */
  async flush(): Promise<void> {}

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}

async function withClient<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  let broken: Error | undefined;
  try {
    return await fn(c);
  } catch (e) {
    if (isUnreachable(e)) broken = e as Error;
    throw e;
  } finally {
    // A connection that failed mid-transaction is dropped, not reused.
    c.release(broken);
  }
}
