/**
 * `v` itself when it starts at byte 0 of its buffer, otherwise a copy. usearch 2.26's Node binding
 * reads typed arrays from the start of their ArrayBuffer and ignores `byteOffset`, so a
 * `subarray` view silently searches with the wrong vector (measured: every query of a batch matrix
 * answered as the first one).
 */
export function atOffsetZero<T extends Float32Array>(v: T): T {
  return v.byteOffset === 0 ? v : (v.slice() as T);
}
