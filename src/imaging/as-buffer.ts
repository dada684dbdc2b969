/**
 * The bytes as a Node Buffer without copying (a Buffer is passed through): what sharp takes as input,
 * for callers that receive a plain Uint8Array (gRPC fields, decoded test fixtures).
 */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}
