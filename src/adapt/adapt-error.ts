/** Adaptation could not run or failed; `hint` says what to do about it, when known. */
export class AdaptError extends Error {
  readonly hint?: string;
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(options.hint ? `${message}\n${options.hint}` : message, { cause: options.cause });
    this.name = 'AdaptError';
    this.hint = options.hint;
  }
}
