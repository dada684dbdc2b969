/**
 * A security setting cannot be used: a TLS or token file is missing, unreadable or malformed, or a
 * key does not match its certificate. Thrown at start-up, before the server binds; the message
 * names the option and the path, never a token.
 */
export class SecurityConfigError extends Error {
  /** The option at fault, e.g. `tlsCertFile`. */
  readonly option: string;
  /** The file involved, or '' when the problem is not about one file. */
  readonly path: string;
  constructor(option: string, path: string, message: string, options?: { cause?: unknown }) {
    super(`option ${option}${path ? ` ('${path}')` : ''}: ${message}`, options);
    this.name = 'SecurityConfigError';
    this.option = option;
    this.path = path;
  }
}
