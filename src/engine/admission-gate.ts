import { OverloadedError } from '../errors/index.js';

/**
 * Bounds the images in progress (decoding, queued for the model, or in it). Unary calls are
 * refused at once when it is full (RESOURCE_EXHAUSTED: memory stays bounded under a burst and
 * the client learns immediately); streamed items wait for a slot, since each stream already bounds
 * its own items in flight.
 */
export class AdmissionGate {
  private used = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(readonly capacity: number) {}

  get inUse(): number {
    return this.used;
  }

  /** Takes a slot or throws OverloadedError. */
  enter(): void {
    if (this.used >= this.capacity) {
      throw new OverloadedError(`server is at capacity (${this.capacity} images in progress); retry with back-off`);
    }
    this.used++;
  }

  /** Waits for a slot; rejects with the signal's reason if it aborts first. */
  async enterWhenFree(signal?: AbortSignal): Promise<void> {
    while (this.used >= this.capacity) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          const i = this.waiters.indexOf(wake);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal!.reason);
        };
        const wake = (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        this.waiters.push(wake);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    this.used++;
  }

  leave(): void {
    this.used--;
    this.waiters.shift()?.();
  }
}
