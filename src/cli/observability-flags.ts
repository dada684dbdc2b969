import { type Command, Option } from 'commander';
import { port } from './arg-parsers.js';
import { LOG_LEVELS, type LogLevel, type TwinlensOptions } from '../config/index.js';

/** The metrics port `serve` uses when neither a flag nor TWINLENS_METRICS_PORT says otherwise. */
export const SERVE_METRICS_PORT = 9464;


/** Adds the metrics and log flags to `serve` (no commander defaults, so environment values stand). */
export function addServeObservabilityFlags(cmd: Command): Command {
  return cmd
    .option('--metrics-port <n>', `Prometheus /metrics and /healthz HTTP port (default: ${SERVE_METRICS_PORT}, 0: any free one)`, port)
    .option('--metrics-host <host>', 'address the metrics server binds (default: the --host address)')
    .option('--no-metrics', 'serve no metrics')
    .addOption(new Option('--log-level <level>', 'lowest level of the JSON log lines on stderr (default: info)').choices(LOG_LEVELS));
}

/**
 * The TwinlensOptions of addServeObservabilityFlags' flags, only those given, so they override the
 * environment without erasing it. The metrics port is the flag's, else `envMetricsPort`
 * (TWINLENS_METRICS_PORT), else SERVE_METRICS_PORT; `--no-metrics` turns metrics off.
 */
export function serveObservabilityOptionsFrom(
  o: { metrics?: boolean; metricsPort?: number; metricsHost?: string; logLevel?: LogLevel },
  envMetricsPort: number | null | undefined,
): Partial<TwinlensOptions> {
  const options: Partial<TwinlensOptions> = {
    // `off` in the environment is null, which must not fall through to the default.
    metricsPort: o.metrics === false ? null : (o.metricsPort ?? (envMetricsPort === undefined ? SERVE_METRICS_PORT : envMetricsPort)),
  };
  if (o.metricsHost !== undefined) options.metricsHost = o.metricsHost;
  if (o.logLevel !== undefined) options.logLevel = o.logLevel;
  return options;
}
