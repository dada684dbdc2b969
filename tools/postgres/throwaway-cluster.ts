/**
 * A throwaway PostgreSQL 15 cluster with pgvector for one test suite or bench run: initdb in a temporary folder
 * (as the `postgres` user when the tests run as root: initdb refuses root), trust authentication,
 * a free loopback port and the socket in the same folder. `make setup-postgres` installs PostgreSQL
 * and builds pgvector; without them the suite fails (it is never skipped).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';

const run = promisify(execFile);

export const PG_BIN = process.env.TWINLENS_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** A running throwaway cluster. */
export interface PostgresCluster {
  /** Connection URL of the `postgres` database (superuser `postgres`, no password). */
  url: string;
  port: number;
  dir: string;
  /** URL of a new, empty database named `name` (with the vector extension created by the store). */
  createDatabase(name: string): Promise<string>;
  /** Stops the server (`immediate`: like a crash, no checkpoint); the data stays. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops the server and removes its folder. */
  destroy(): Promise<void>;
}

/** Throws a message that says how to install PostgreSQL + pgvector when they are missing. */
function checkInstalled(): void {
  const initdb = path.join(PG_BIN, 'initdb');
  if (!fs.existsSync(initdb)) {
    throw new Error(`PostgreSQL 15 is not installed (no ${initdb}): run \`make setup-postgres\` (installs postgresql-15 and builds pgvector)`);
  }
  const vector = '/usr/lib/postgresql/15/lib/vector.so';
  if (!fs.existsSync(vector)) {
    throw new Error(`pgvector is not installed in PostgreSQL 15 (no ${vector}): run \`make setup-postgres\``);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a PostgreSQL binary as the `postgres` user when we are root, else as ourselves. */
async function pg(binary: string, args: string[]): Promise<void> {
  const file = path.join(PG_BIN, binary);
  if (asRoot) await run('runuser', ['-u', 'postgres', '--', file, ...args]);
  else await run(file, args);
}

/** Starts a fresh cluster; call `destroy` in afterAll. `settings`: server settings (`-c name=value`). */
export async function startPostgres(options: { settings?: Record<string, string> } = {}): Promise<PostgresCluster> {
  checkInstalled();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinlens-pg-'));
  if (asRoot) await run('chown', ['postgres:postgres', dir]);
  const data = path.join(dir, 'data');
  await pg('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const settings = Object.entries(options.settings ?? {})
    .map(([k, v]) => ` -c ${k}=${v}`)
    .join('');
  const start = (): Promise<void> =>
    pg('pg_ctl', ['-D', data, '-w', '-t', '60', '-l', path.join(dir, 'pg.log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1${settings}`, 'start']);
  await start();
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  let running = true;
  const stop = async (mode: 'fast' | 'immediate' = 'fast'): Promise<void> => {
    if (!running) return;
    await pg('pg_ctl', ['-D', data, '-w', '-m', mode, 'stop']);
    running = false;
  };
  return {
    url,
    port,
    dir,
    async createDatabase(name) {
      const c = new Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`create database "${name}"`);
      } finally {
        await c.end();
      }
      return `postgresql://postgres@127.0.0.1:${port}/${name}`;
    },
    stop,
    async start() {
      await start();
      running = true;
    },
    async destroy() {
      await stop('immediate').catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
