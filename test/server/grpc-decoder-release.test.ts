/**
 * The patch of grpc-js's message decoder (releaseDecodedChunks): a decoder between messages holds
 * no chunks, and messages split anyhow across chunks still decode exactly. Fails when an upgrade
 * of grpc-js changes the decoder's shape (the server then logs that the patch is off).
 */
import { grpcStreamDecoderClass, releaseDecodedChunks } from '../../src/server/grpc-decoder-release.js';

/** A gRPC length-prefixed frame (uncompressed) around `body`. */
function frame(body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

describe('releaseDecodedChunks', () => {
  test('applies to this grpc-js, once', () => {
    expect(releaseDecodedChunks()).toBe(true);
    expect(releaseDecodedChunks()).toBe(true);
  });

  test('a decoder between messages holds none of the last one; split messages decode exactly', () => {
    releaseDecodedChunks();
    const Decoder = grpcStreamDecoderClass()!;
    const decoder = new Decoder(-1);
    const a = Buffer.alloc(300_000, 1);
    const b = Buffer.alloc(70_000, 2);
    const stream = Buffer.concat([frame(a), frame(b), frame(Buffer.alloc(0))]);
    const out: Buffer[] = [];
    // Chunks that end inside a length prefix, inside a body, and exactly on a message's end.
    const cuts = [3, 100_000, 300_005, 300_012, stream.length];
    let at = 0;
    for (const cut of cuts) {
      out.push(...decoder.write(stream.subarray(at, cut)));
      at = cut;
      if (decoder.readState === 0) expect(decoder.readPartialMessage).toEqual([]);
    }
    expect(out.map((m) => m.length)).toEqual([a.length + 5, b.length + 5, 5]);
    expect(out[0].subarray(5).equals(a)).toBe(true);
    expect(out[1].subarray(5).equals(b)).toBe(true);
    // After the first message (cut at its end): nothing of it is kept.
    const fresh = new Decoder(-1);
    expect(fresh.write(frame(a))).toHaveLength(1);
    expect(fresh.readPartialMessage).toEqual([]);
  });
});
