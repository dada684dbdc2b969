/**
 * The service API suite (service-api.ts) on store=postgres: the real server over a throwaway
 * PostgreSQL 15 + pgvector cluster (test/helpers/postgres.ts). Fails when PostgreSQL is missing.
 */
import { startTestServer } from '../helpers/server.js';
import { startPostgres, type PostgresCluster } from '../helpers/postgres.js';
import { describeServiceApi } from './service-api.js';

let pg: PostgresCluster;
let url: string;

beforeAll(async () => {
  pg = await startPostgres();
  url = await pg.createDatabase('service');
});

afterAll(async () => {
  await pg?.destroy();
});

describe('on PostgreSQL', () => {
  describeServiceApi('postgres', () => startTestServer({ store: 'postgres', postgresUrl: url }));
});
