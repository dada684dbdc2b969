/** The throwaway PostgreSQL + pgvector cluster the store=postgres suites run on (shared with bench-scale-out). */
export { PG_BIN, type PostgresCluster, startPostgres } from '../../tools/postgres/throwaway-cluster.js';
