import { InvalidArgumentError } from 'commander';

/**
 * Command-line number parsers shared by `twinlens` and `twinlens-dev`, so every flag reads numbers
 * the same way: underscores may group digits (`1_000_000`), and the message names what was expected.
 */
function integerWithin(value: string, min: number, expected: string): number {
  const n = Number(value.trim().replace(/_/g, ''));
  if (value.trim() === '' || !Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected ${expected}, received '${value}'`);
  return n;
}

/** Any integer (ranges are checked by the option schema). */
export function int(value: string): number {
  return integerWithin(value, Number.MIN_SAFE_INTEGER, 'an integer');
}

/** An integer >= 0. */
export function wholeNumber(value: string): number {
  return integerWithin(value, 0, 'a whole number (0 or more)');
}

/** An integer >= 1. */
export function positiveInt(value: string): number {
  return integerWithin(value, 1, 'a positive whole number');
}

/** A comma-separated list of positive integers. */
export function positiveInts(value: string): number[] {
  return value.split(',').map((v) => positiveInt(v));
}

/** A TCP port, 0..65535 (0: any free one). */
export function port(value: string): number {
  const n = wholeNumber(value);
  if (n > 65535) throw new InvalidArgumentError(`expected a port 0..65535, received '${value}'`);
  return n;
}
