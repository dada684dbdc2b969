import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { credentials, makeGenericClientConstructor, Metadata, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { CLI_ENTRY } from '../../src/config/index.js';

/** The built CLI the child runs: `node dist/src/cli/main.js serve ...`. */
export const SERVER_ENTRY = CLI_ENTRY;

/** Options of {@link startServerProcess}. */
export interface ServerProcessOptions {
  /** Catalog directory (`--data`); created by the server when missing. */
  dataDir: string;
  /**
   * Loopback port. Default 0: the child binds any free one and the port is read from its log
   * ("listening on 127.0.0.1:<port>"), so no other process can take it between a pick and the bind.
   */
  port?: number;
  /** Where the child's stdout and stderr go (appended). Default `<dataDir>/../server-<n>.log`. */
  logFile?: string;
  /**
   * `TWINLENS_*` settings for the child, e.g. `{ TWINLENS_MAX_IMAGES_IN_PROGRESS: '64' }`. Every
   * other `TWINLENS_*` variable of this process is dropped, so a run does not depend on the caller's
   * shell. Default: metrics on a free port (as `serve` runs them, without a fixed port to collide on),
   * and catalog view averaging off (`TWINLENS_CATALOG_VIEWS=0`): these tools measure serving and
   * durability, and 16 simulated photos per upload would make uploads, not the service, the subject
   * (and keep their figures comparable with runs before it existed); pass the variable to turn it on.
   */
  env?: Record<string, string>;
  /** Further `serve` flags. Default none (`--no-demo` and `--providers cpu` are always given). */
  args?: string[];
  /**
   * The CLI script the child runs. Default SERVER_ENTRY (this build); another build's
   * `cli/main.js` gives before-and-after figures.
   */
  entry?: string;
  /** Longest wait for the server to answer Health SERVING, in ms. Default 120,000 (model load, re-embedding). */
  readyTimeoutMs?: number;
}

/** How a child exited. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A `twinlens serve` child process on 127.0.0.1. */
export interface ServerProcess {
  pid: number;
  port: number;
  /** `127.0.0.1:<port>`. */
  address: string;
  logFile: string;
  /** Resolves when the child exits (never rejects). */
  exited: Promise<ProcessExit>;
  /** The exit, once it happened; undefined while it runs. */
  exit(): ProcessExit | undefined;
  /**
   * Resident memory now, in bytes (VmRSS) of the server and its own children (the image decoder
   * processes); NaN once the child is gone or off Linux.
   */
  rssBytes(): number;
  /** Resident memory now, in bytes, of the server process alone (without its decoder children); NaN once gone. */
  ownRssBytes(): number;
  /**
   * Highest resident memory so far, in bytes: the sum of each process's VmHWM (server and decoder
   * children; an upper bound of their joint peak); NaN once the child is gone or off Linux.
   */
  peakRssBytes(): number;
  /** Resets the peak that {@link peakRssBytes} reports to the current RSS (Linux `clear_refs` 5); false where refused. */
  resetPeakRss(): boolean;
  /** Sends `signal` (default SIGTERM) and resolves with the exit; SIGKILL after `killAfterMs` (default 60,000). */
  stop(signal?: NodeJS.Signals, killAfterMs?: number): Promise<ProcessExit>;
  /** The last `lines` lines of the log file (diagnostics). */
  logTail(lines?: number): string;
  /** Image decoder children that crashed so far (contained: the server logged and replaced them). */
  decoderCrashes(): number;
  /** The server's Prometheus endpoint, as its log announced it; undefined when metrics are off. */
  metricsUrl(): string | undefined;
}

/** The V8 side of a server's memory, from its Prometheus process metrics. */
export interface HeapMemory {
  heapUsedMB: number;
  heapTotalMB: number;
  /** Memory of Buffers and other objects held outside the V8 heap. */
  externalMB: number;
}

/** Reads `nodejs_heap_size_*` and `nodejs_external_memory_bytes` from a /metrics URL; undefined when unavailable. */
export async function heapMemoryFrom(metricsUrl: string | undefined, timeoutMs = 2000): Promise<HeapMemory | undefined> {
  if (!metricsUrl) return undefined;
  try {
    const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(timeoutMs) })).text();
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? Number.NaN) / 1e6;
    return { heapUsedMB: value('nodejs_heap_size_used_bytes'), heapTotalMB: value('nodejs_heap_size_total_bytes'), externalMB: value('nodejs_external_memory_bytes') };
  } catch {
    return undefined;
  }
}

interface HealthClient {
  Check(req: { service: string }, md: Metadata, opts: { deadline: number }, cb: (e: ServiceError | null, r: { status: string }) => void): void;
  close(): void;
}
const HealthClientCtor = makeGenericClientConstructor(healthService, 'grpc.health.v1.Health') as unknown as new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
) => HealthClient;

/** grpc.health.v1 Check of the whole server: the status name, or the error's message. */
export async function healthStatus(address: string, timeoutMs = 2000): Promise<string> {
  const client = new HealthClientCtor(address, credentials.createInsecure());
  try {
    return await new Promise<string>((resolve) =>
      client.Check({ service: '' }, new Metadata(), { deadline: Date.now() + timeoutMs }, (e, r) => resolve(e ? `error: ${e.details || e.message}` : r.status)),
    );
  } finally {
    client.close();
  }
}

function procStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** `pid` and its descendants (Linux /proc children lists; just `pid` where unavailable). */
function processTree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) {
    try {
      const kids = fs.readFileSync(`/proc/${all[i]}/task/${all[i]}/children`, 'utf8').trim();
      if (kids) all.push(...kids.split(/\s+/).map(Number));
    } catch {
      // gone meanwhile, or no children list on this kernel
    }
  }
  return all;
}

/** Sum of `field` over `pid` and its descendants; NaN when `pid` itself cannot be read. */
function treeStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const [own, ...kids] = processTree(pid).map((p) => procStatusBytes(p, field));
  return own + kids.filter((b) => Number.isFinite(b)).reduce((a, b) => a + b, 0);
}

function tailOf(file: string, lines: number): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '(no log)';
  }
}

let serversStarted = 0;

/** The port the server announced in its log (`listening on 127.0.0.1:<port>`, or the JSON `address`) after `from`; 0 until then. */
function boundPortIn(logFile: string, from: number): number {
  let text: string;
  try {
    text = fs.readFileSync(logFile, 'utf8').slice(from);
  } catch {
    return 0;
  }
  const m = /listening on 127\.0\.0\.1:(\d+)/.exec(text) ?? /"address":"127\.0\.0\.1:(\d+)"/.exec(text);
  return m ? Number(m[1]) : 0;
}

/**
 * Starts the real server as a child process (`node dist/src/cli/main.js serve --host 127.0.0.1 ...`,
 * CPU provider, no demo catalog), so that its memory can be read from /proc, it can be sent
 * SIGTERM, and a native crash cannot take the caller down. Resolves once Health says SERVING.
 * Needs the build (`make build` or `npx tsc -p tsconfig.json`).
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const entry = options.entry ?? SERVER_ENTRY;
  if (!fs.existsSync(entry)) {
    throw new Error(`${entry} is missing: build first (make build, or npx tsc -p tsconfig.json)`);
  }
  const requestedPort = options.port ?? 0;
  const logFile = options.logFile ?? path.join(path.dirname(path.resolve(options.dataDir)), `server-${process.pid}-${++serversStarted}.log`);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const logStart = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TWINLENS_')));
  Object.assign(env, { TWINLENS_METRICS_PORT: '0', TWINLENS_CATALOG_VIEWS: '0' }, options.env);
  const log = fs.openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      process.execPath,
      [entry, 'serve', '--host', '127.0.0.1', '--port', String(requestedPort), '--data', options.dataDir, '--no-demo', '--providers', 'cpu', ...(options.args ?? [])],
      { env, stdio: ['ignore', log, log] },
    );
  } finally {
    fs.closeSync(log);
  }
  // The child must not outlive this process, whatever way it ends.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let exit: ProcessExit | undefined;
  const exited = new Promise<ProcessExit>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      process.removeListener('exit', killOnExit);
      resolve(exit);
    }),
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${entry}`);

  const deadline = Date.now() + (options.readyTimeoutMs ?? 120_000);
  let port = requestedPort;
  try {
    for (;;) {
      if (exit) throw new Error(`server exited before serving (code ${exit.code}, signal ${exit.signal}); log ${logFile}:\n${tailOf(logFile, 20)}`);
      if (port === 0) port = boundPortIn(logFile, logStart);
      if (port !== 0 && (await healthStatus(`127.0.0.1:${port}`, 1000)) === 'SERVING') break;
      if (Date.now() > deadline) {
        throw new Error(`server did not report SERVING within ${options.readyTimeoutMs ?? 120_000} ms; log ${logFile}:\n${tailOf(logFile, 20)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }

  return {
    pid,
    port,
    address: `127.0.0.1:${port}`,
    logFile,
    exited,
    exit: () => exit,
    rssBytes: () => (exit ? Number.NaN : treeStatusBytes(pid, 'VmRSS')),
    ownRssBytes: () => (exit ? Number.NaN : procStatusBytes(pid, 'VmRSS')),
    peakRssBytes: () => (exit ? Number.NaN : treeStatusBytes(pid, 'VmHWM')),
    resetPeakRss: () => {
      try {
        for (const p of processTree(pid)) fs.writeFileSync(`/proc/${p}/clear_refs`, '5');
        return true;
      } catch {
        return false;
      }
    },
    async stop(signal = 'SIGTERM', killAfterMs = 60_000) {
      if (exit) return exit;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    logTail: (lines = 20) => tailOf(logFile, lines),
    decoderCrashes: () => {
      try {
        return (fs.readFileSync(logFile, 'utf8').slice(logStart).match(/image decoder child crashed/g) ?? []).length;
      } catch {
        return 0;
      }
    },
    metricsUrl: () => {
      try {
        return /(http:\/\/[\w.:[\]-]+\/metrics)/.exec(fs.readFileSync(logFile, 'utf8'))?.[1];
      } catch {
        return undefined;
      }
    },
  };
}
