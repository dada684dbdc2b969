/**
 * Entry point of a decoding child process (see `createProcessDecoder`): decodes what the parent
 * sends with the production sharp decoder and answers over the IPC channel. Run with
 * `serialization: 'advanced'` so image bytes travel as binary. The decoder options come in the
 * `TWINLENS_DECODER_OPTIONS` environment variable (JSON). The child exits when the parent goes.
 */
import { InvalidImageError } from '../errors/index.js';
import { createSharpDecoder, type SharpDecoderOptions } from './decode-image.js';

/** A request from the parent. */
export interface DecodeRequestMessage {
  id: number;
  bytes: Uint8Array;
}

/** The answer to one request. */
export type DecodeReplyMessage =
  | { id: number; ok: true; rgb: Uint8Array; size: number; sourceWidth: number; sourceHeight: number; format: string }
  | { id: number; ok: false; invalid: boolean; message: string };

/** The environment variable that carries the decoder options to the child. */
export const DECODER_OPTIONS_ENV = 'TWINLENS_DECODER_OPTIONS';

/** Serves decode requests on the IPC channel (what the child runs). */
export function serveDecodeRequests(): void {
  const options = JSON.parse(process.env[DECODER_OPTIONS_ENV] ?? '{}') as SharpDecoderOptions;
  const decoder = createSharpDecoder(options);
  const reply = (m: DecodeReplyMessage): void => {
    process.send?.(m);
  };
  process.on('message', (m: DecodeRequestMessage) => {
    decoder.decode(m.bytes).then(
      (d) => reply({ id: m.id, ok: true, rgb: d.rgb, size: d.size, sourceWidth: d.sourceWidth, sourceHeight: d.sourceHeight, format: d.format }),
      (e: unknown) =>
        reply({ id: m.id, ok: false, invalid: e instanceof InvalidImageError, message: e instanceof Error ? e.message : String(e) }),
    );
  });
  // The parent closed the channel (it exited or closed the pool): nothing more will come.
  process.on('disconnect', () => process.exit(0));
  // Ctrl-C or a SIGTERM to the process group is the parent's to handle: it finishes its calls
  // (which may still need a decode) and then closes the pool, which ends this child.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => undefined);
}

if (require.main === module) serveDecodeRequests();
