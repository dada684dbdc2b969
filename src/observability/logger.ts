import pino from 'pino';
import { LOG_LEVELS, type LogLevel } from '../config/index.js';

/** Structured fields of one log line (values JSON-serialisable). */
export type LogFields = Record<string, unknown>;

/**
 * The narrow logging interface the service writes to. `fields` become properties of the JSON line;
 * implementations that ignore them (tests, the bench) stay valid.
 */
export interface Logger {
  info(message: string, fields?: LogFields): void;
  error(message: string, error?: unknown, fields?: LogFields): void;
}

/** Options of `createPinoLogger`. */
export interface PinoLoggerOptions {
  /** Lowest level written. Default `info`: start-up lines and one line per request. */
  level?: LogLevel;
  /**
   * Where the JSON lines go. Default stderr, written synchronously so nothing is lost when the
   * process exits (stdout stays free for the CLI's human-facing output). Tests pass an in-memory stream.
   */
  destination?: pino.DestinationStream;
}

/**
 * A Logger that writes one pino JSON line per message: `level` (name), `time` (epoch ms), `pid`,
 * `hostname`, `name: "twinlens"`, `msg`, and the fields. An Error passed to `error` is serialised
 * under `err` (type, message, stack); any other value under `error`.
 */
export function createPinoLogger(options: PinoLoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  if (!LOG_LEVELS.includes(level)) {
    throw new RangeError(`option level: expected one of ${LOG_LEVELS.join(', ')}, received ${JSON.stringify(level)}`);
  }
  const logger = pino(
    { name: 'twinlens', level, formatters: { level: (label) => ({ level: label }) } },
    options.destination ?? pino.destination({ dest: 2, sync: true }),
  );
  // Closures, not methods: callers pass `log.info` and `log.error` around unbound.
  return {
    info: (message, fields) => logger.info(fields ?? {}, message),
    error: (message, error, fields) => {
      const cause = error === undefined ? {} : error instanceof Error ? { err: error } : { error: String(error) };
      logger.error({ ...fields, ...cause }, message);
    },
  };
}

function levelFromEnv(env: NodeJS.ProcessEnv): LogLevel {
  const level = env.TWINLENS_LOG_LEVEL as LogLevel | undefined;
  return level !== undefined && LOG_LEVELS.includes(level) ? level : 'info';
}

/**
 * The default where no logger is passed: pino JSON lines on stderr at `TWINLENS_LOG_LEVEL` (default
 * info). `createTwinlensServer` makes its own from `options.logLevel` instead.
 */
export const consoleLogger: Logger = createPinoLogger({ level: levelFromEnv(process.env) });

/** Discards everything (tests). */
export const silentLogger: Logger = { info: () => undefined, error: () => undefined };
