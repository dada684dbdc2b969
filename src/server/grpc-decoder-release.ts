/**
 * grpc-js's message decoder (StreamDecoder, one per call) keeps the chunks of the last message it
 * read (`readPartialMessage`) after that message is complete and copied into one buffer, until the
 * first byte of the next message arrives. A stream that waits (for room in the image memory budget,
 * or for its client) therefore holds a second copy of its last message: 21 MB per upload stream
 * with 21 MB images, outside any budget. This drops the chunks as soon as a message is complete.
 *
 * It patches grpc-js internals (`build/src/stream-decoder.js`, not its public API), guarded: when
 * the decoder does not look as expected it changes nothing and says so, and a unit test
 * (test/server/grpc-decoder-release.test.ts) fails on a grpc-js whose decoder changed shape.
 */

/** The parts of grpc-js's StreamDecoder this relies on. */
interface StreamDecoderShape {
  readState: number;
  readPartialMessage: Buffer[];
  write(data: Buffer): Buffer[];
}

/** ReadState.NO_DATA in grpc-js's stream-decoder: between messages. */
const NO_DATA = 0;
const PATCHED = Symbol.for('twinlens.grpcDecoderRelease');

/** grpc-js's StreamDecoder class, or undefined when it cannot be found. */
export function grpcStreamDecoderClass(): (new (maxReadMessageLength: number) => StreamDecoderShape) | undefined {
  try {
    const mod = require('@grpc/grpc-js/build/src/stream-decoder') as { StreamDecoder?: new (n: number) => StreamDecoderShape };
    return typeof mod.StreamDecoder === 'function' ? mod.StreamDecoder : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Makes grpc-js's decoders drop a message's chunks once it is complete (process-wide, idempotent).
 * Returns true when the patch is in place, false when grpc-js's decoder was not as expected.
 */
export function releaseDecodedChunks(): boolean {
  const Decoder = grpcStreamDecoderClass();
  const proto = Decoder?.prototype as (StreamDecoderShape & { [PATCHED]?: boolean }) | undefined;
  if (!Decoder || !proto || typeof proto.write !== 'function') return false;
  if (proto[PATCHED]) return true;
  // The decoder must start between messages with an array of chunks, as the patch assumes.
  const probe = new Decoder(-1);
  if (probe.readState !== NO_DATA || !Array.isArray(probe.readPartialMessage)) return false;
  const write = proto.write;
  proto.write = function (this: StreamDecoderShape, data: Buffer): Buffer[] {
    const messages = write.call(this, data);
    // Between messages, the chunks are those of the message just returned: copied already.
    if (this.readState === NO_DATA && this.readPartialMessage.length > 0) this.readPartialMessage = [];
    return messages;
  };
  Object.defineProperty(proto, PATCHED, { value: true });
  return true;
}
