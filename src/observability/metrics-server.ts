import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** Options of `startMetricsServer`. */
export interface MetricsServerOptions {
  /** Address to bind (the service binds the gRPC host unless told otherwise). */
  host: string;
  /** TCP port; 0 picks a free one. */
  port: number;
}

/** A running metrics HTTP server. */
export interface MetricsServer {
  /** The bound port (the real one when options.port was 0). */
  readonly port: number;
  /** `http://host:port/metrics`. */
  readonly url: string;
  /** Stops listening and drops open (keep-alive) connections. */
  close(): Promise<void>;
}

function send(res: http.ServerResponse, code: number, contentType: string, body: string, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(code, { 'content-type': contentType, 'cache-control': 'no-store', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/**
 * Serves `GET /metrics` (the registry in Prometheus text format, with its content type) and
 * `GET /healthz` (200 `ok` while the process runs) over plain HTTP on node:http. Other paths get
 * 404, other methods 405.
 */
export async function startMetricsServer(registry: Registry, options: MetricsServerOptions): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' && path !== '/healthz') return send(res, 404, 'text/plain; charset=utf-8', 'not found: try /metrics or /healthz\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', { allow: 'GET, HEAD' });
    }
    if (path === '/healthz') return send(res, 200, 'text/plain; charset=utf-8', 'ok\n');
    registry.metrics().then(
      (text) => send(res, 200, registry.contentType, text),
      (e: unknown) => send(res, 500, 'text/plain; charset=utf-8', `collecting metrics failed: ${e instanceof Error ? e.message : String(e)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  let closed: Promise<void> | undefined;
  return {
    port,
    url: `http://${host}:${port}/metrics`,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
