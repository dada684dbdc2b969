/** Small helpers of the observability tests: a GET over node:http, a metrics text parser, an in-memory log. */
import * as http from 'node:http';
import { Writable } from 'node:stream';
import { createPinoLogger, type Logger } from '../../src/observability/index.js';
import { until as untilWithin } from '../helpers/until.js';

/** A plain HTTP response. */
export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request with node:http (no keep-alive, so nothing stays open after the test). */
export function httpRequest(url: string, method = 'GET'): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** One sample of the Prometheus text format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the sample lines of the Prometheus text format (label values without escaped quotes suffice here). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[k] = v;
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** The samples named `name` whose labels include `labels`. */
export function samplesOf(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The value of the one sample named `name` with `labels` (throws unless exactly one matches). */
export function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samplesOf(samples, name, labels);
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0].value;
}

/** A pino-backed Logger writing into memory, with the raw text and the parsed lines. */
export interface MemoryLog {
  logger: Logger;
  text(): string;
  lines(): Record<string, unknown>[];
  /** The per-request lines (msg "request"). */
  requests(): Record<string, unknown>[];
}

/** Creates a MemoryLog (every level down to debug). */
export function memoryLog(): MemoryLog {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const text = (): string => chunks.join('');
  const lines = (): Record<string, unknown>[] =>
    text()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    logger: createPinoLogger({ level: 'debug', destination: stream }),
    text,
    lines,
    requests: () => lines().filter((l) => l.msg === 'request'),
  };
}

/** Waits until `check` returns true (a request line is written just after the status is sent). */
export function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  return untilWithin(check, timeoutMs);
}
