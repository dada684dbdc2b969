import { type ChildProcess, fork } from 'node:child_process';
import * as fs from 'node:fs';
import type * as net from 'node:net';
import * as path from 'node:path';
import { DIST_DIR } from '../config/package-root.js';
import { InvalidImageError } from '../errors/index.js';
import { type AcceptedFormat, checkEncodedSize, type DecodedImage, type ImageDecoder, type SharpDecoderOptions } from './decode-image.js';
import { DECODE_DATA_FD, DECODER_OPTIONS_ENV, type DecodeReplyMessage, requestHeader } from './decode-worker.js';

/** Options of {@link createProcessDecoder}. */
export interface ProcessDecoderOptions extends SharpDecoderOptions {
  /** Child processes decoding at once. */
  processes: number;
  /**
   * Decodes one child runs at once (its libuv thread pool, UV_THREADPOOL_SIZE); more wait in the
   * child. Default 2: with 2 children, 4 decodes at once, as many as the server's own pool ran
   * before, so the worst case of decoded pixels in memory is unchanged (a WebP declaring a
   * 7071x7071 canvas takes ~246 MB while it decodes).
   */
  threadsPerProcess?: number;
  /**
   * Decodes sent to one child at once: threadsPerProcess running plus this many waiting there, so
   * that a child never idles between two. Default 1. The rest wait in the parent, where their bytes
   * already are (and are counted in the image memory budget): a child holds a copy of each image
   * sent to it, so without this bound up to maxImagesInProgress images would be copied into the
   * children whatever the budget.
   */
  queuedPerProcess?: number;
  /**
   * The child's entry script. Default: `decode-worker.js` beside this module, or under `dist/` when
   * this module runs from TypeScript source (tests): then `npm run build`/`make build` must have run.
   */
  workerScript?: string;
  /** Told about every crashed child (signal or exit code) and what became of its decodes. */
  onCrash?: (info: DecoderCrash) => void;
}

/** A child that died while decoding. */
export interface DecoderCrash {
  pid: number | undefined;
  signal: NodeJS.Signals | null;
  code: number | null;
  /** Decodes it had in flight; each is retried alone in a fresh child. */
  inFlight: number;
}

/** An ImageDecoder over child processes, with a way to stop them. */
export interface ProcessDecoder extends ImageDecoder {
  /** Children that died while decoding, since start. */
  readonly crashes: number;
  /** Decodes that crashed a child even when retried alone (refused as INVALID_ARGUMENT). */
  readonly crashingImages: number;
  /** Stops the children; decodes still in flight are rejected. */
  close(): Promise<void>;
}

interface Pending {
  bytes: Uint8Array;
  resolve: (d: DecodedImage) => void;
  reject: (e: Error) => void;
  /** Retried alone after its child crashed: a second crash is this image's doing. */
  alone: boolean;
}

interface Worker {
  proc: ChildProcess;
  /** The pipe the requests go down (the child's DECODE_DATA_FD). */
  data: net.Socket;
  pending: Map<number, Pending>;
  dead: boolean;
  /** Serves one lone retry, then goes. */
  oneOff: boolean;
}

function defaultWorkerScript(): string {
  const beside = path.join(__dirname, 'decode-worker.js');
  if (fs.existsSync(beside)) return beside;
  return path.join(DIST_DIR, 'src', 'imaging', 'decode-worker.js');
}

/**
 * Decodes in child processes, so that a native crash in libvips or a codec (a SIGSEGV on a corrupt
 * file: seen once in ~100,000 fuzz cases) kills a child, not the server. Each child runs the same
 * sharp decoder (`createSharpDecoder`); requests go to the child with the fewest in flight. When a
 * child dies, the pool replaces it and retries each of its in-flight decodes alone in a fresh
 * child: one that crashes alone too is refused as INVALID_ARGUMENT ("the decoder crashed on it"),
 * the others (innocent bystanders, or a crash that needed two decodes at once) are answered normally.
 *
 * Cost: the encoded bytes go to the child down a pipe of their own, written from the request's
 * buffer as it is (the IPC channel would serialise a copy, and concatenate another: 2 x 21 MB of
 * garbage per 21 MB upload), and 150 KB of pixels come back over the IPC channel (V8
 * serialisation), a fraction of a millisecond against ~4 ms for the decode itself; plus the
 * children's memory (sharp loaded once per child). Children run with --expose-gc and collect
 * after every 32 MiB received. Children never keep the parent alive.
 */
export function createProcessDecoder(options: ProcessDecoderOptions): ProcessDecoder {
  const { processes, threadsPerProcess = 2, queuedPerProcess = 1, workerScript = defaultWorkerScript(), onCrash, ...decoderOptions } = options;
  if (!Number.isInteger(processes) || processes < 1) throw new RangeError(`processes: expected an integer >= 1, received ${processes}`);
  if (!Number.isInteger(queuedPerProcess) || queuedPerProcess < 0) {
    throw new RangeError(`queuedPerProcess: expected an integer >= 0, received ${queuedPerProcess}`);
  }
  const inFlightPerProcess = threadsPerProcess + queuedPerProcess;
  /** Decodes waiting for room in a child, first come first served. */
  const queue: Pending[] = [];
  if (!fs.existsSync(workerScript)) {
    throw new Error(`decoder child script ${workerScript} is missing: build first (make build)`);
  }
  const env = { ...process.env, [DECODER_OPTIONS_ENV]: JSON.stringify(decoderOptions), UV_THREADPOOL_SIZE: String(threadsPerProcess) };
  const workers: (Worker | undefined)[] = new Array(processes).fill(undefined);
  let nextId = 1;
  let crashes = 0;
  let crashingImages = 0;
  let closed = false;

  const refresh = (w: Worker): void => {
    // An idle child must not keep the parent's event loop alive; a busy one must.
    if (w.pending.size > 0) {
      w.proc.channel?.ref();
      w.data.ref();
    } else {
      w.proc.channel?.unref();
      w.data.unref();
    }
  };

  const spawn = (oneOff = false): Worker => {
    const stdio: ('ignore' | 'inherit' | 'ipc' | 'pipe')[] = ['ignore', 'inherit', 'inherit', 'ipc', 'pipe'];
    if (stdio.length !== DECODE_DATA_FD + 1) throw new Error('decoder stdio layout out of step with DECODE_DATA_FD');
    const proc = fork(workerScript, [], { serialization: 'advanced', env, execArgv: ['--expose-gc'], stdio });
    proc.unref();
    const data = proc.stdio[DECODE_DATA_FD] as net.Socket;
    // A child that dies breaks the pipe (EPIPE): its exit handler retries what it held.
    data.on('error', () => undefined);
    data.unref();
    const w: Worker = { proc, data, pending: new Map(), dead: false, oneOff };
    proc.on('message', (m: DecodeReplyMessage) => {
      const p = w.pending.get(m.id);
      if (!p) return;
      w.pending.delete(m.id);
      refresh(w);
      if (w.oneOff) {
        w.dead = true; // its exit is not a crash
        proc.disconnect();
        data.destroy();
      }
      dispatch();
      if (m.ok) {
        const rgb = m.rgb instanceof Uint8Array ? m.rgb : new Uint8Array(m.rgb);
        p.resolve({ rgb, size: m.size, sourceWidth: m.sourceWidth, sourceHeight: m.sourceHeight, format: m.format as AcceptedFormat });
      } else {
        p.reject(m.invalid ? new InvalidImageError(m.message) : new Error(m.message));
      }
    });
    const died = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (w.dead) return;
      w.dead = true;
      const orphans = [...w.pending.values()];
      w.pending.clear();
      const slot = workers.indexOf(w);
      if (slot >= 0) workers[slot] = undefined; // replaced on the next decode
      if (closed) {
        orphans.forEach((p) => p.reject(new Error('image decoder closed')));
        return;
      }
      dispatch(); // a fresh child takes over the queue
      crashes++;
      onCrash?.({ pid: proc.pid, signal, code, inFlight: orphans.length });
      for (const p of orphans) {
        if (p.alone) {
          crashingImages++;
          p.reject(new InvalidImageError(`image could not be decoded: the decoder crashed on it (${signal ?? `exit code ${code}`})`));
        } else {
          send({ ...p, alone: true }, spawn(true));
        }
      }
    };
    proc.on('exit', died);
    proc.on('error', () => {
      // Spawning or messaging failed: treat as a death (the exit event may never come).
      proc.kill('SIGKILL');
      died(null, null);
    });
    return w;
  };

  const send = (p: Pending, w: Worker): void => {
    const id = nextId++;
    w.pending.set(id, p);
    refresh(w);
    // Header and image in one write, the image written from its own buffer (no copy).
    w.data.cork();
    w.data.write(requestHeader(id, p.bytes.length));
    w.data.write(p.bytes, (e) => {
      if (e && w.pending.delete(id)) {
        refresh(w);
        // The child is going away; its exit handler retries the rest. Retry this one the same way.
        if (p.alone) p.reject(new Error(`image decoder child unavailable: ${e.message}`));
        else send({ ...p, alone: true }, spawn(true));
      }
    });
    w.data.uncork();
  };

  /** The live child with the fewest decodes in flight, if it has room for one more (spawning missing ones). */
  const pick = (): Worker | undefined => {
    let best: Worker | undefined;
    for (let i = 0; i < workers.length; i++) {
      let w = workers[i];
      if (!w || w.dead) w = workers[i] = spawn();
      if (!best || w.pending.size < best.pending.size) best = w;
    }
    return best && best.pending.size < inFlightPerProcess ? best : undefined;
  };

  /** Sends queued decodes to children with room. */
  const dispatch = (): void => {
    while (queue.length > 0 && !closed) {
      const w = pick();
      if (!w) return;
      send(queue.shift()!, w);
    }
  };

  return {
    decode(bytes: Uint8Array): Promise<DecodedImage> {
      if (closed) return Promise.reject(new Error('image decoder closed'));
      try {
        // Refused here: an over-limit image is not worth copying to a child.
        checkEncodedSize(bytes, decoderOptions.maxImageBytes);
      } catch (e) {
        return Promise.reject(e);
      }
      return new Promise((resolve, reject) => {
        queue.push({ bytes, resolve, reject, alone: false });
        dispatch();
      });
    },
    get crashes() {
      return crashes;
    },
    get crashingImages() {
      return crashingImages;
    },
    async close() {
      closed = true;
      queue.splice(0).forEach((p) => p.reject(new Error('image decoder closed')));
      await Promise.all(
        workers.map(async (w) => {
          if (!w || w.dead) return;
          const gone = new Promise<void>((r) => w.proc.once('exit', () => r()));
          w.proc.disconnect();
          w.data.destroy();
          const force = setTimeout(() => w.proc.kill('SIGKILL'), 2000);
          await gone;
          clearTimeout(force);
        }),
      );
    },
  };
}
