import pg from 'pg';
import { FailedPreconditionError, ItemNotFoundError, ServiceUnavailableError } from '../../errors/index.js';
import {
  BlobStore,
  type CatalogItemInfo,
  type NewCatalogItem,
  rowKeyOf,
  splitRowKey,
  validateItemId,
  validateNewItems,
  validateView,
  parseExampleView,
  validateExampleId,
  exampleViewOf,
  type ExampleInfo,
  type ExampleScoring,
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
  /**
   * Embeds stored rows with this server's model, for a switch of the catalog to it (see
   * {@link PgCatalogStore.open}). Absent: a catalog bound to another model is refused.
   */
  reembed?: ReembedRows;
  /** Progress of a switch. */
  log?: (message: string, fields?: Record<string, unknown>) => void;
  /**
   * How SAME examples take part in search (option exampleScoring). Default `fold`. The catalog is
   * bound to one way (its rows are maintained that way): see {@link PgCatalogStore.open}.
   */
  exampleScoring?: ExampleScoring;
}

/** A stored row to embed again, with its source image. */
export interface RowToEmbed {
  key: string;
  itemId: string;
  view: string;
  metadata: Record<string, string>;
  image: Buffer;
}

/** The new model's vectors of `rows`, in their order. */
export type ReembedRows = (rows: RowToEmbed[]) => Promise<{ embedding: Float32Array; local: Float32Array | null; simulatedViews: number | null }[]>;

/** A row as written to a rows table. */
interface PgRow {
  key: string;
  metadata: Record<string, string>;
  embedding: Float32Array;
  local: Float32Array | null;
  modelVersion: string;
  sha: string;
  imageBytes: number;
  updatedAtMs: number;
  simulatedViews: number | null;
}

/**
 * Inserts or replaces `rows` in `table` in one statement (inside the caller's transaction); returns
 * the keys that replaced a row.
 */
async function writeRows(c: pg.PoolClient, table: string, rows: PgRow[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const params: unknown[] = [];
  const values = rows.map((r) => {
    const { itemId, view } = splitRowKey(r.key);
    const local = r.local ? toFloat16(r.local) : null;
    params.push(
      r.key,
      itemId,
      view,
      JSON.stringify(r.metadata),
      vectorText(r.embedding),
      local ? Buffer.from(local.buffer, local.byteOffset, local.byteLength) : null,
      r.modelVersion,
      r.sha,
      r.imageBytes,
      r.updatedAtMs,
      r.simulatedViews,
    );
    const n = params.length - 11;
    return `(${Array.from({ length: 11 }, (_, i) => `$${n + i + 1}`).join(', ')})`;
  });
  const res = await c.query<{ row_key: string; inserted: boolean }>(
    `insert into ${table} (row_key, item_id, view, metadata, embedding, local, model_version, image_sha256, image_bytes, updated_at_ms, simulated_views)
     values ${values.join(', ')}
     on conflict (row_key) do update set metadata = excluded.metadata, embedding = excluded.embedding, local = excluded.local,
       model_version = excluded.model_version, image_sha256 = excluded.image_sha256, image_bytes = excluded.image_bytes,
       updated_at_ms = excluded.updated_at_ms, simulated_views = excluded.simulated_views, catalog_embedding = null
     returning row_key, (xmax = 0) as inserted`,
    params,
  );
  return new Set(res.rows.filter((r) => !r.inserted).map((r) => r.row_key));
}

/** The rows table `table` and its indexes (named after it), for vectors of `dim`. */
function rowsTableSql(table: string, dim: number): string[] {
  return [
    `create table if not exists ${table} (
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
      simulated_views int)`,
    `create index if not exists ${table}_item on ${table} (item_id)`,
    `create index if not exists ${table}_image on ${table} (image_sha256)`,
    `create index if not exists ${table}_metadata on ${table} using gin (metadata jsonb_path_ops)`,
    // Confirmed examples (views '@same.<id>' / '@different.<id>'): by id, and counted by label. The
    // queries repeat the predicate `view like '@%'` so the planner can use it.
    `create index if not exists ${table}_examples on ${table} (view collate "C") where view like '@%'`,
    // With exampleScoring fold: an item's catalog vector while `embedding` holds the fold of it and
    // its SAME examples' vectors (null when nothing is folded). Added to tables made before it.
    `alter table ${table} add column if not exists catalog_embedding vector(${dim})`,
  ];
}

/**
 * Recomputes the fold of `itemIds` in `table` (exampleScoring fold, inside the caller's
 * transaction): an item with SAME examples is searched by the normalised sum of its catalog vector
 * (kept in catalog_embedding) and theirs, each photo weighing as much as the catalog image, as the
 * embedded catalog does; an item without any gets its catalog vector back. All items when `itemIds` is null.
 */
async function refold(c: pg.PoolClient, table: string, itemIds: string[] | null): Promise<void> {
  if (itemIds !== null && itemIds.length === 0) return;
  const only = itemIds === null ? '' : 'and item_id = any($1::text[])';
  const onlyMain = itemIds === null ? '' : 'and m.row_key = any($1::text[])';
  const params = itemIds === null ? [] : [itemIds];
  await c.query(
    `update ${table} m set catalog_embedding = coalesce(m.catalog_embedding, m.embedding),
       embedding = l2_normalize(coalesce(m.catalog_embedding, m.embedding) + s.total)
     from (select item_id, sum(embedding) as total from ${table} where view like '@same.%' ${only} group by item_id) s
     where m.row_key = s.item_id and m.view = ''`,
    params,
  );
  await c.query(
    `update ${table} m set embedding = m.catalog_embedding, catalog_embedding = null
     where m.catalog_embedding is not null ${onlyMain}
       and not exists (select 1 from ${table} e where e.item_id = m.row_key and e.view like '@same.%')`,
    params,
  );
}

/** Rows re-embedded per model run batch during a switch. */
const REEMBED_BATCH = 16;
/** Rows left to catch up with that the final, write-blocking step of a switch embeds itself. */
const FINAL_CATCH_UP = 64;

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

/** The two view names an example id may be stored under. */
function exampleViews(exampleId: string): string[] {
  return [exampleViewOf('same', exampleId), exampleViewOf('different', exampleId)];
}

/** The example id of an example's view name, in SQL (the part after the first '.'). */
const EXAMPLE_ID_SQL = `substr(view, strpos(view, '.') + 1) collate "C"`;

function exampleFrom(r: RowRecord & { item_id: string; view: string }): ExampleInfo | undefined {
  const example = parseExampleView(r.view);
  if (!example) return undefined;
  return {
    ...example,
    itemId: r.item_id,
    metadata: r.metadata,
    modelVersion: r.model_version,
    imageSha256: r.image_sha256,
    imageBytes: Number(r.image_bytes),
    createdAtMs: Number(r.updated_at_ms),
  };
}

/**
 * The vector index: HNSW over the vectors cast to halfvec (2 bytes a value), cosine (rows are unit
 * vectors); the table keeps them in full precision and Search rescores the candidates with those.
 * Measured at 100,000 x 256-d (docs/scale-out.md): the index is 40% smaller than a full-precision
 * one at the same recall@10. M 16 and ef_construction 64 are pgvector's defaults. A bulk load drops
 * it, inserts, then runs this again (building once is far faster than inserting into it).
 */
export function hnswIndexSql(dim: number, table = 'twinlens_rows'): string {
  return `create index if not exists ${table}_hnsw on ${table} using hnsw ((embedding::halfvec(${dim})) halfvec_cosine_ops) with (m = 16, ef_construction = 64)`;
}

/** Advisory lock key of schema creation and model binding (any constant both replicas agree on). */
const SCHEMA_LOCK = 0x7477_6c6e; // 'twln'
/** Session advisory lock key held by the one replica that re-embeds the catalog for a model switch. */
const SWITCH_LOCK = 0x7477_6c73; // 'twls'

interface Binding {
  model_version: string;
  dim: number;
  local_length: number;
}

/**
 * The catalog in PostgreSQL with pgvector: one row per item image or view (`twinlens_rows`, row key
 * `item` or `item#view` as in the embedded catalog), vectors in an HNSW index (cosine on unit
 * vectors, halfvec with a full-precision rescore), metadata as jsonb with a GIN index for filters, source images in a bytea table
 * (`twinlens_images`, content-addressed), and the catalog's model binding in `twinlens_catalog`.
 * Every call reads the database, so any number of replicas share one catalog and see each other's
 * writes once they are acknowledged (committed). Filtered searches use pgvector's iterative index
 * scans (`hnsw.iterative_scan = relaxed_order`), so a rare filter still fills k hits.
 *
 * Confirmed examples are rows of their item under an example view, as in the embedded catalog;
 * SAME ones are folded into their item's vector or searched as views of it (exampleScoring, bound
 * in `twinlens_catalog`), DIFFERENT ones never take part. Not built on this store: background refinement.
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
    /** How SAME examples take part in search; the catalog is bound to it. */
    readonly exampleScoring: ExampleScoring,
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
    const target: Binding = { model_version: modelVersion, dim, local_length: localLength };
    const scoring = o.exampleScoring ?? 'fold';
    try {
      const needsSwitch = await withClient(pool, async (c) => {
        await c.query('begin');
        try {
          await c.query('select pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
          await c.query('create extension if not exists vector');
          await c.query(`create table if not exists twinlens_catalog (
            id int primary key check (id = 1), model_version text not null, dim int not null, local_length int not null)`);
          await c.query('create table if not exists twinlens_images (sha256 text primary key, bytes bytea not null)');
          const b = (await c.query<Binding>('select model_version, dim, local_length from twinlens_catalog')).rows[0];
          const rowsExist = (await c.query(`select to_regclass('twinlens_rows') is not null as t`)).rows[0].t as boolean;
          const held = rowsExist ? ((await c.query('select exists (select 1 from twinlens_rows) as e')).rows[0].e as boolean) : false;
          // The example scoring is bound like the model: the rows are kept one way (fold: the item's
          // vector is the fold), so every replica must agree. It may change while no SAME example exists.
          await c.query('alter table twinlens_catalog add column if not exists example_scoring text');
          const boundScoring = (await c.query<{ s: string | null }>('select example_scoring as s from twinlens_catalog')).rows[0]?.s ?? null;
          if (boundScoring !== null && boundScoring !== scoring) {
            const same = held && ((await c.query(`select exists (select 1 from twinlens_rows where view like '@same.%') as e`)).rows[0].e as boolean);
            if (same) {
              throw new FailedPreconditionError(
                `the PostgreSQL catalog scores confirmed examples ${boundScoring} and holds SAME examples kept that way; this server is configured ` +
                  `exampleScoring=${scoring}: configure ${boundScoring} (every replica of one catalog scores examples the same way)`,
              );
            }
          }
          if (b !== undefined && boundScoring !== scoring) await c.query('update twinlens_catalog set example_scoring = $1', [scoring]);
          const mismatch = b !== undefined && !sameBinding(b, target);
          if (mismatch && held) {
            if (!o.reembed) {
              throw new FailedPreconditionError(
                `the PostgreSQL catalog holds vectors of model ${b.model_version} (${b.dim}-d); this server's model is ${modelVersion} (${dim}-d), ` +
                  'and it cannot re-embed them here',
              );
            }
            await c.query('commit');
            return true;
          }
          if (mismatch) await c.query('drop table if exists twinlens_rows');
          await c.query(
            `insert into twinlens_catalog (id, model_version, dim, local_length, example_scoring) values (1, $1, $2, $3, $4)
             on conflict (id) do update set model_version = excluded.model_version, dim = excluded.dim, local_length = excluded.local_length,
               example_scoring = excluded.example_scoring`,
            [modelVersion, dim, localLength, scoring],
          );
          for (const sql of rowsTableSql('twinlens_rows', dim)) await c.query(sql);
          await c.query(hnswIndexSql(dim));
          await c.query('commit');
          return false;
        } catch (e) {
          await c.query('rollback').catch(() => undefined);
          throw e;
        }
      });
      if (needsSwitch) await switchCatalog(pool, target, o.reembed!, o.log ?? (() => undefined));
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw e;
    }
    return new PgCatalogStore(pool, modelVersion, dim, localLength, o.url, efSearch, scoring);
  }

  /** What a replica whose model the catalog no longer holds is told (UNAVAILABLE: retry on another replica). */
  private switchedAway(bound: string): ServiceUnavailableError {
    return new ServiceUnavailableError(
      `the catalog switched to model ${bound}; this replica serves ${this.modelVersion}: restart it with the new model (it answers nothing meanwhile)`,
    );
  }

  /**
   * Throws ServiceUnavailableError unless the catalog is bound to this replica's model version and
   * example scoring (another replica may have switched either since this one started).
   */
  private async assertBound(c: pg.Pool | pg.PoolClient, lock = ''): Promise<void> {
    const b = (await c.query<{ model_version: string; s: string | null }>(`select model_version, example_scoring as s from twinlens_catalog ${lock}`)).rows[0];
    if (b.model_version !== this.modelVersion) throw this.switchedAway(b.model_version);
    if ((b.s ?? this.exampleScoring) !== this.exampleScoring) {
      throw new ServiceUnavailableError(
        `the catalog now scores confirmed examples ${b.s}; this replica is configured exampleScoring=${this.exampleScoring}: restart it with ${b.s}`,
      );
    }
  }

  /**
   * Throws ServiceUnavailableError unless the database answers and the catalog is still bound to
   * this replica's model version and example scoring (Health).
   */
  async check(): Promise<void> {
    await this.q((p) => this.assertBound(p));
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

  upsert(items: NewCatalogItem[]): Promise<boolean[]> {
    validateNewItems(items, this.dim, this.localLength);
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
          // Shares the binding row with other writers; a model switch's final step locks it for
          // update, so no write lands in the old table after that step copied it.
          await this.assertBound(c, 'for share');
          const shas = [...images.keys()];
          await c.query(
            `insert into twinlens_images (sha256, bytes) select * from unnest($1::text[], $2::bytea[]) on conflict (sha256) do nothing`,
            [shas, shas.map((s) => Buffer.from(images.get(s)!))],
          );
          const rows: PgRow[] = [...byKey].map(([key, item]) => ({
            key,
            metadata: item.metadata,
            embedding: item.embedding,
            local: item.local ?? null,
            modelVersion: this.modelVersion,
            sha: shaOf.get(key)!,
            imageBytes: item.image.length,
            updatedAtMs: now,
            simulatedViews: item.simulatedViews ?? null,
          }));
          const replaced = await writeRows(c, 'twinlens_rows', rows);
          // An example's item must exist. The lock on its main row makes a concurrent DeleteItem
          // (which locks that row for update first) wait for this commit and then delete the example
          // too, or makes this write find the item gone: no example outlives its item. With fold the
          // lock is exclusive, so two writes of one item's examples fold one after the other (the
          // second's refold statement, run once it holds the lock, sees the first's example).
          const exampleItems = [...new Set([...byKey.values()].filter((i) => parseExampleView(i.view ?? '')).map((i) => i.itemId))];
          if (exampleItems.length > 0) {
            const lock = this.exampleScoring === 'fold' ? 'for no key update' : 'for key share';
            const found = await c.query<{ row_key: string }>(`select row_key from twinlens_rows where row_key = any($1::text[]) order by row_key ${lock}`, [exampleItems]);
            const present = new Set(found.rows.map((r) => r.row_key));
            const missing = exampleItems.find((id) => !present.has(id));
            if (missing !== undefined) throw new ItemNotFoundError(missing);
          }
          if (this.exampleScoring === 'fold') {
            // The items whose fold this write changes: a new SAME example's, or a replaced main
            // image's (writeRows put its new catalog vector in `embedding`).
            const touched = new Set<string>();
            for (const [key, item] of byKey) {
              if (parseExampleView(item.view ?? '')?.label === 'same' || (!item.view && replaced.has(key))) touched.add(item.itemId);
            }
            await refold(c, 'twinlens_rows', [...touched]);
          }
          await c.query('commit');
          return replaced;
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
    return view
      ? this.deleteRows('delete from twinlens_rows where row_key = $1 returning image_sha256', [rowKeyOf(itemId, view)])
      : this.deleteRows('delete from twinlens_rows where item_id = $1 returning image_sha256', [itemId], itemId);
  }

  /** Deletes one example by id (either label); false when there was none. */
  deleteExample(exampleId: string): Promise<boolean> {
    validateExampleId(exampleId);
    return this.deleteRows(`delete from twinlens_rows where view like '@%' and view = any($1::text[]) returning image_sha256, item_id`, [exampleViews(exampleId)], undefined, true);
  }

  /**
   * Runs the delete statement `sql` (returning image_sha256) in a transaction that holds the binding
   * for share, then removes images no row references any more; false when it deleted nothing. With
   * `lockItem`, that item's main row is locked for update first, so an example written concurrently
   * (which key-share locks it) is either committed before the delete reads the rows, or finds the item gone.
   * With `refolds` (the statement also returns item_id), the items' folds are redone in the transaction.
   */
  private deleteRows(sql: string, params: unknown[], lockItem?: string, refolds = false): Promise<boolean> {
    return this.q(async (pool) => {
      const res = await withClient(pool, async (c) => {
        await c.query('begin');
        try {
          await this.assertBound(c, 'for share');
          if (lockItem !== undefined) await c.query('select 1 from twinlens_rows where row_key = $1 for update', [lockItem]);
          const r = await c.query<{ image_sha256: string; item_id?: string }>(sql, params);
          if (refolds && this.exampleScoring === 'fold' && r.rows.length > 0) {
            // A deleted SAME example leaves the fold of its item: lock the item's row first, so the
            // refold (a new statement, hence snapshot) sees any example committed meanwhile.
            const items = [...new Set(r.rows.map((row) => row.item_id!))].sort();
            await c.query('select 1 from twinlens_rows where row_key = any($1::text[]) order by row_key for no key update', [items]);
            await refold(c, 'twinlens_rows', items);
          }
          await c.query('commit');
          return r;
        } catch (e) {
          await c.query('rollback').catch(() => undefined);
          throw e;
        }
      });
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
    const rows = await this.q(async (pool) => (await pool.query<{ e: string; v: string }>('select embedding::text as e, model_version as v from twinlens_rows where row_key = $1', [itemId])).rows);
    if (rows.length === 0) throw new ItemNotFoundError(itemId);
    // Never a vector of another model (after a switch by another replica).
    if (rows[0].v !== this.modelVersion) throw this.switchedAway(rows[0].v);
    return parseVector(rows[0].e);
  }

  async localOf(itemId: string): Promise<Float32Array | null> {
    validateItemId(itemId);
    const rows = await this.q(async (pool) => (await pool.query<{ local: Buffer | null; v: string }>('select local, model_version as v from twinlens_rows where row_key = $1', [itemId])).rows);
    if (rows.length === 0) throw new ItemNotFoundError(itemId);
    if (rows[0].v !== this.modelVersion) throw this.switchedAway(rows[0].v);
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
    const filtered = !!filter && Object.keys(filter).length > 0;
    // Only this model's rows: after another replica switched the catalog, none match (checked below).
    // Confirmed examples are scored best-view: a SAME example is another view of its item, with the
    // item's metadata (filters and hits see the item); DIFFERENT examples never take part. With a
    // filter, catalog rows are filtered on their own metadata here and SAME examples by their item's
    // in a second, exact query (below), so a rare filter still answers from the GIN index.
    // With fold, example rows never take part: their vectors are in their item's.
    const bestView = this.exampleScoring === 'best-view';
    const where = filtered
      ? `where model_version = $3 and view not like '@%' and metadata @> $4::jsonb`
      : `where model_version = $3 and view not like ${bestView ? `'@different.%'` : `'@%'`}`;
    const metadataOf = `case when view like '@%' then (select m.metadata from twinlens_rows m where m.row_key = r.item_id) else r.metadata end`;
    let limit = Math.max(k * 2, k + 8);
    for (;;) {
      const params: unknown[] = [vectorText(query), limit, this.modelVersion];
      if (filtered) params.push(JSON.stringify(filter));
      const { rows, short } = await this.q(async (pool) => {
        const run = (sql: string) =>
          pool.query<{ item_id: string; view: string; metadata: Record<string, string> | null; d: number }>(sql, params).catch(async (e: unknown) => {
            // A switch to a model of another dimension makes the query vector unfit for the column.
            await this.check();
            throw e;
          });
        // Candidates in the halfvec index's order; `d` is the full-precision distance (rescore).
        const found = await run(
          `select item_id, view, ${metadataOf} as metadata, embedding <=> $1::vector as d from twinlens_rows r ${where}
           order by embedding::halfvec(${this.dim}) <=> $1::halfvec(${this.dim}) limit $2`,
        );
        if (!filtered || !bestView) return { rows: found.rows, short: found.rows.length < limit };
        const examples = await run(
          `select e.item_id, e.view, m.metadata, e.embedding <=> $1::vector as d
           from twinlens_rows m join twinlens_rows e on e.item_id = m.item_id and e.view like '@same.%'
           where m.view = '' and m.metadata @> $4::jsonb and e.model_version = $3
           order by d limit $2`,
        );
        return { rows: [...found.rows, ...examples.rows], short: found.rows.length < limit && examples.rows.length < limit };
      });
      // A short answer may mean the catalog switched to another model: say so rather than answer less.
      if (short) await this.check();
      // Rescored (and relaxed_order may return rows slightly out of order): sort by the full-precision
      // distance, then keep each item's best view.
      rows.sort((a, b) => a.d - b.d);
      const hits: IndexHit[] = [];
      const seen = new Set<string>();
      for (const r of rows) {
        if (seen.has(r.item_id)) continue;
        seen.add(r.item_id);
        hits.push({ itemId: r.item_id, score: 1 - r.d, metadata: r.metadata ?? {}, view: r.view });
        if (hits.length === k) break;
      }
      if (hits.length === k || short) return { hits, scanned: rows.length };
      limit *= 4;
    }
  }

  async listExamples(itemId: string, afterId: string, limit: number): Promise<{ examples: ExampleInfo[]; more: boolean; total: number }> {
    validateItemId(itemId);
    const [rows, total] = await this.q(async (pool) => {
      const [item, page, n] = await Promise.all([
        pool.query('select 1 from twinlens_rows where row_key = $1', [itemId]),
        pool.query<RowRecord & { item_id: string; view: string }>(
          `select item_id, view, ${INFO_COLUMNS} from twinlens_rows
           where item_id = $1 and view like '@%' and ${EXAMPLE_ID_SQL} > $2 order by ${EXAMPLE_ID_SQL} limit $3`,
          [itemId, afterId, limit + 1],
        ),
        pool.query<{ n: string }>(`select count(*) as n from twinlens_rows where item_id = $1 and view like '@%'`, [itemId]),
      ]);
      if (item.rowCount === 0) throw new ItemNotFoundError(itemId);
      return [page.rows, Number(n.rows[0].n)] as const;
    });
    const examples = rows.map(exampleFrom).filter((e): e is ExampleInfo => e !== undefined);
    return { examples: examples.slice(0, limit), more: rows.length > limit, total };
  }

  async example(exampleId: string): Promise<ExampleInfo | undefined> {
    validateExampleId(exampleId);
    const rows = await this.q(
      async (pool) =>
        (
          await pool.query<RowRecord & { item_id: string; view: string }>(
            `select item_id, view, ${INFO_COLUMNS} from twinlens_rows where view like '@%' and view = any($1::text[])`,
            [exampleViews(exampleId)],
          )
        ).rows,
    );
    return rows.length === 0 ? undefined : exampleFrom(rows[0]);
  }

  async exampleCounts(): Promise<{ same: number; different: number }> {
    const r = await this.q(
      async (pool) =>
        (
          await pool.query<{ same: string; different: string }>(
            `select count(*) filter (where view like '@same.%') as same, count(*) filter (where view like '@different.%') as different
             from twinlens_rows where view like '@%'`,
          )
        ).rows[0],
    );
    return { same: Number(r.same), different: Number(r.different) };
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

function sameBinding(a: Binding, b: Binding): boolean {
  return a.model_version === b.model_version && a.dim === b.dim && a.local_length === b.local_length;
}

const NEXT = 'twinlens_rows_next';

/** Rows of the serving table that the next table lacks or holds in an older state, at most `limit`. */
async function pendingRows(c: pg.Pool | pg.PoolClient, limit: number) {
  return (
    await c.query<{ row_key: string; metadata: Record<string, string>; image_sha256: string; image_bytes: string; updated_at_ms: number }>(
      `select o.row_key, o.metadata, o.image_sha256, o.image_bytes, o.updated_at_ms
       from twinlens_rows o left join ${NEXT} n on n.row_key = o.row_key
       where n.row_key is null or n.image_sha256 <> o.image_sha256 or n.metadata <> o.metadata or n.updated_at_ms <> o.updated_at_ms
       order by o.row_key limit $1`,
      [limit],
    )
  ).rows;
}

/** Embeds `rows` with the new model (batches of REEMBED_BATCH) and writes them to the next table. */
async function embedInto(c: pg.PoolClient, target: Binding, rows: Awaited<ReturnType<typeof pendingRows>>, reembed: ReembedRows): Promise<void> {
  for (let i = 0; i < rows.length; i += REEMBED_BATCH) {
    const batch = rows.slice(i, i + REEMBED_BATCH);
    const images = new Map(
      (await c.query<{ sha256: string; bytes: Buffer }>('select sha256, bytes from twinlens_images where sha256 = any($1::text[])', [batch.map((r) => r.image_sha256)])).rows.map(
        (r) => [r.sha256, r.bytes],
      ),
    );
    const vectors = await reembed(batch.map((r) => ({ key: r.row_key, ...splitRowKey(r.row_key), metadata: r.metadata, image: images.get(r.image_sha256)! })));
    await writeRows(
      c,
      NEXT,
      batch.map((r, j) => ({
        key: r.row_key,
        metadata: r.metadata,
        embedding: vectors[j].embedding,
        local: vectors[j].local,
        modelVersion: target.model_version,
        sha: r.image_sha256,
        imageBytes: Number(r.image_bytes),
        // The row's own time: the catch-up compares it with the serving table's.
        updatedAtMs: r.updated_at_ms,
        simulatedViews: vectors[j].simulatedViews,
      })),
    );
  }
}

/**
 * Switches the catalog to the model `target` (the coordination is a session advisory lock): one
 * replica takes SWITCH_LOCK and re-embeds every row into a second table from the stored images while
 * the replicas of the old model keep serving and writing the first; others starting with the new
 * model wait for the binding to change. Catch-up passes follow the writes made meanwhile; the last
 * step locks the binding row for update (writers share it, so writes wait), embeds what is left,
 * swaps the tables and rebinds the catalog in one transaction. Old replicas then find no row of their
 * model: they answer UNAVAILABLE and report NOT_SERVING until restarted with the new model, so no
 * query mixes versions. A replica that dies mid-way releases the lock with its session; the next
 * one resumes from the rows already in the second table.
 */
async function switchCatalog(pool: pg.Pool, target: Binding, reembed: ReembedRows, log: (m: string, f?: Record<string, unknown>) => void): Promise<void> {
  const lock = await pool.connect();
  let broken: Error | undefined;
  const onError = (e: Error): void => void (broken = e);
  lock.on('error', onError);
  try {
    for (let waited = false; ; waited = true) {
      const bound = (await lock.query<Binding>('select model_version, dim, local_length from twinlens_catalog')).rows[0];
      if (sameBinding(bound, target)) return;
      if ((await lock.query('select pg_try_advisory_lock($1) as g', [SWITCH_LOCK])).rows[0].g) {
        const again = (await lock.query<Binding>('select model_version, dim, local_length from twinlens_catalog')).rows[0];
        if (sameBinding(again, target)) {
          await lock.query('select pg_advisory_unlock($1)', [SWITCH_LOCK]);
          return;
        }
        log(`re-embedding the catalog from ${again.model_version} to ${target.model_version} (this replica holds the switch lock)`);
        break;
      }
      if (!waited) log(`another replica is re-embedding the catalog for a model switch; waiting for ${target.model_version}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    try {
      await reembedAndSwap(pool, target, reembed, log);
    } finally {
      await lock.query('select pg_advisory_unlock($1)', [SWITCH_LOCK]).catch(() => undefined);
    }
  } finally {
    lock.off('error', onError);
    lock.release(broken);
  }
}

async function reembedAndSwap(pool: pg.Pool, target: Binding, reembed: ReembedRows, log: (m: string, f?: Record<string, unknown>) => void): Promise<void> {
  const { dim } = target;
  await withClient(pool, async (c) => {
    // A second table left by a switch to another model (or dimension) is of no use.
    if ((await c.query(`select to_regclass('${NEXT}') is not null as t`)).rows[0].t) {
      const type = (await c.query(`select format_type(atttypid, atttypmod) as t from pg_attribute where attrelid = '${NEXT}'::regclass and attname = 'embedding'`)).rows[0].t;
      const other = (await c.query(`select exists (select 1 from ${NEXT} where model_version <> $1) as e`, [target.model_version])).rows[0].e;
      if (type !== `vector(${dim})` || other) await c.query(`drop table ${NEXT}`);
    }
    for (const sql of rowsTableSql(NEXT, dim)) await c.query(sql);
  });
  const total = Number((await pool.query('select count(*) as n from twinlens_rows')).rows[0].n);
  let done = 0;
  let indexed = false;
  for (;;) {
    const todo = await pendingRows(pool, 256);
    if (todo.length < FINAL_CATCH_UP) {
      if (indexed) break;
      // Built once after the bulk of the rows, then kept up to date by the catch-up inserts.
      await pool.query(hnswIndexSql(dim, NEXT));
      indexed = true;
      continue;
    }
    await withClient(pool, (c) => embedInto(c, target, todo, reembed));
    done += todo.length;
    log(`re-embedded ${Math.min(done, total)}/${total}`);
  }
  await withClient(pool, async (c) => {
    await c.query('begin');
    try {
      await c.query('select 1 from twinlens_catalog for update');
      await embedInto(c, target, await pendingRows(c, 1_000_000), reembed);
      await c.query(`delete from ${NEXT} n where not exists (select 1 from twinlens_rows o where o.row_key = n.row_key)`);
      // The new table holds catalog vectors only: fold the SAME examples' new vectors in again.
      if ((await c.query<{ s: string | null }>('select example_scoring as s from twinlens_catalog')).rows[0].s === 'fold') await refold(c, NEXT, null);
      await c.query('drop table twinlens_rows');
      await c.query(`alter table ${NEXT} rename to twinlens_rows`);
      for (const suffix of ['pkey', 'item', 'image', 'metadata', 'examples', 'hnsw']) await c.query(`alter index ${NEXT}_${suffix} rename to twinlens_rows_${suffix}`);
      await c.query(`alter table twinlens_rows rename constraint ${NEXT}_image_sha256_fkey to twinlens_rows_image_sha256_fkey`);
      await c.query('update twinlens_catalog set model_version = $1, dim = $2, local_length = $3', [target.model_version, dim, target.local_length]);
      await c.query('commit');
    } catch (e) {
      await c.query('rollback').catch(() => undefined);
      throw e;
    }
  });
  log(`the catalog now serves ${target.model_version}`, { rows: total });
}

async function withClient<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  let broken: Error | undefined;
  // The server may end the connection between two queries of `fn` (a PostgreSQL restart): the
  // client then emits 'error', which would crash the process without a listener. The next query
  // fails and `fn` sees that.
  const onError = (e: Error): void => void (broken = e);
  c.on('error', onError);
  try {
    return await fn(c);
  } catch (e) {
    if (isUnreachable(e)) broken = e as Error;
    throw e;
  } finally {
    c.off('error', onError);
    // A connection that failed mid-transaction is dropped, not reused.
    c.release(broken);
  }
}
