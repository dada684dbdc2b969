/**
 * Entry point of a decoding child process (see `createProcessDecoder`): decodes what the parent
 * sends with the production sharp decoder and answers over the IPC channel. Requests come on a
 * pipe of their own (file descriptor DECODE_DATA_FD), as a header and the raw image bytes, so an
 * image is not copied to be serialized on either side; answers (150 KB of pixels) go back over the
 * IPC channel, run with `serialization: 'advanced'` so they travel as binary. The decoder options
 * come in the `TWINLENS_DECODER_OPTIONS` environment variable (JSON). The child exits when the
 * parent goes.
 */
import * as net from 'node:net';
import sharp from 'sharp';
import { InvalidImageError } from '../errors/index.js';
import { createSharpDecoder, type SharpDecoderOptions } from './decode-image.js';

/** The answer to one request. */
export type DecodeReplyMessage =
  | { id: number; ok: true; rgb: Uint8Array; size: number; sourceWidth: number; sourceHeight: number; format: string }
  | { id: number; ok: false; invalid: boolean; message: string };

/** The environment variable that carries the decoder options to the child. */
export const DECODER_OPTIONS_ENV = 'TWINLENS_DECODER_OPTIONS';

/** The child's file descriptor (stdio index) on which the parent writes its requests. */
export const DECODE_DATA_FD = 4;

/** A request on the data pipe: this header (id, then the image's length, both u32 big-endian), then the image. */
export const REQUEST_HEADER_BYTES = 8;

/** The header of request `id` for an image of `length` bytes. */
export function requestHeader(id: number, length: number): Buffer {
  const header = Buffer.alloc(REQUEST_HEADER_BYTES);
  header.writeUInt32BE(id >>> 0, 0);
  header.writeUInt32BE(length, 4);
  return header;
}

/**
 * Parses the data pipe: feed it the chunks as they come (they may be reused afterwards: what is
 * kept is copied out), and it calls `onRequest` with each whole request, the image in a buffer of
 * its own, allocated once at its final size.
 */
export function createRequestReader(onRequest: (id: number, bytes: Buffer) => void): (chunk: Uint8Array) => void {
  const header = Buffer.alloc(REQUEST_HEADER_BYTES);
  let headerFill = 0;
  let id = 0;
  let body: Buffer | null = null;
  let bodyFill = 0;
  return (chunk) => {
    let at = 0;
    for (;;) {
      if (!body) {
        if (at >= chunk.length) return;
        const n = Math.min(REQUEST_HEADER_BYTES - headerFill, chunk.length - at);
        header.set(chunk.subarray(at, at + n), headerFill);
        headerFill += n;
        at += n;
        if (headerFill < REQUEST_HEADER_BYTES) return;
        headerFill = 0;
        id = header.readUInt32BE(0);
        body = Buffer.allocUnsafeSlow(header.readUInt32BE(4));
        bodyFill = 0;
      }
      const n = Math.min(body.length - bodyFill, chunk.length - at);
      body.set(chunk.subarray(at, at + n), bodyFill);
      bodyFill += n;
      at += n;
      if (bodyFill < body.length) return;
      const done = body;
      body = null;
      onRequest(id, done);
    }
  };
}

/** Bytes read from the data pipe into one reused buffer at a time. */
const READ_CHUNK_BYTES = 256 * 1024;
/**
 * Image bytes received after which the child collects its garbage (when run with --expose-gc, as
 * the pool starts it). Its JavaScript heap is a few MB, so a collection takes a few milliseconds,
 * against tens of milliseconds to decode this many bytes; without it, V8 lets received images pile
 * up (150 MB per child seen under an upload flood) before it looks.
 */
const COLLECT_AFTER_BYTES = 32 * 1024 * 1024;

/** Hooks of {@link serveDecodeRequests} (tests). */
export interface DecodeRequestHooks {
  /** Sees each request's bytes before the decoder does. */
  onRequest?: (bytes: Uint8Array) => void;
}

/** Serves decode requests from the data pipe, answering on the IPC channel (what the child runs). */
export function serveDecodeRequests(hooks: DecodeRequestHooks = {}): void {
  const options = JSON.parse(process.env[DECODER_OPTIONS_ENV] ?? '{}') as SharpDecoderOptions;
  // Every upload is a new image: libvips' operation cache would only keep decoded pixels of
  // images that never come again (up to 50 MB per child).
  sharp.cache(false);
  const decoder = createSharpDecoder(options);
  const gc = (globalThis as { gc?: () => void }).gc;
  let bytesSinceCollect = 0;
  const reply = (m: DecodeReplyMessage): void => {
    process.send?.(m);
  };
  const read = createRequestReader((id, bytes) => {
    hooks.onRequest?.(bytes);
    bytesSinceCollect += bytes.length;
    decoder
      .decode(bytes)
      .then(
        (d) => reply({ id, ok: true, rgb: d.rgb, size: d.size, sourceWidth: d.sourceWidth, sourceHeight: d.sourceHeight, format: d.format }),
        (e: unknown) => reply({ id, ok: false, invalid: e instanceof InvalidImageError, message: e instanceof Error ? e.message : String(e) }),
      )
      .finally(() => {
        if (gc && bytesSinceCollect >= COLLECT_AFTER_BYTES) {
          bytesSinceCollect = 0;
          gc();
        }
      });
  });
  const chunk = Buffer.allocUnsafeSlow(READ_CHUNK_BYTES);
  // `onread` (documented for the constructor, missing from its typings): every read lands in the
  // same buffer, so reading a large image leaves no chunks behind.
  const socketOptions: net.SocketConstructorOpts & { onread: net.OnReadOpts } = {
    fd: DECODE_DATA_FD,
    readable: true,
    writable: false,
    onread: {
      buffer: chunk,
      callback: (n, buf) => {
        read(buf.subarray(0, n));
        return true;
      },
    },
  };
  const input = new net.Socket(socketOptions);
  // The parent going away ends the pipe too; the IPC channel's disconnect decides.
  input.on('error', () => undefined);
  // The parent closed the channel (it exited or closed the pool): nothing more will come.
  process.on('disconnect', () => process.exit(0));
  // Ctrl-C or a SIGTERM to the process group is the parent's to handle: it finishes its calls
  // (which may still need a decode) and then closes the pool, which ends this child.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => undefined);
}

if (require.main === module) serveDecodeRequests();
