/** The narrow logging interface the service writes to. */
export interface Logger {
  info(message: string): void;
  error(message: string, error?: unknown): void;
}

/** Logs to stderr, one line per message. */
export const consoleLogger: Logger = {
  info: (message) => console.error(`[twinlens] ${message}`),
  error: (message, error) => console.error(`[twinlens] ${message}`, error instanceof Error ? error.stack : (error ?? '')),
};

/** Discards everything (tests). */
export const silentLogger: Logger = { info: () => undefined, error: () => undefined };
