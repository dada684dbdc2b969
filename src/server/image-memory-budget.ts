/**
 * A byte-counting admission for the image bytes the server holds, shared by every call and
 * stream (see {@link createImageMemoryBudget}).
 */
export interface ImageMemoryBudget {
  /** Bytes that may be held at once. */
  readonly capacity: number;
  /** Bytes held now. */
  readonly inUse: number;
  /** Acquisitions waiting for room. */
  readonly waiting: number;
  /**
   * Takes `bytes` if they fit now (or the budget is empty); false otherwise. It does not queue
   * behind waiting acquisitions: a small unary call that fits passes while a large streamed
   * message waits for room.
   */
  tryAcquire(bytes: number): boolean;
  /**
   * Waits for room for `bytes` (first come, first served), then takes them; rejects with the
   * signal's reason if it aborts first. Fires the pressure listeners when it has to wait.
   */
  acquire(bytes: number, signal?: AbortSignal): Promise<void>;
  /** Gives back `bytes` taken before and wakes the waiters that now fit. */
  release(bytes: number): void;
  /**
   * Opens the account of one call: the messages charged to it and not given back yet are given
   * back together when it closes (the call ended), without the account holding the messages.
   */
  openAccount(): ImageBudgetAccount;
  /**
   * Gives back what `message` was charged; a no-op when it was not charged, was released already,
   * or its account was closed (its bytes went back then).
   */
  releaseMessage(message: object): void;
  /**
   * Calls `listener` whenever an acquisition has to wait: holders of charged messages that they
   * would otherwise keep (an upload batching items before a commit) should let go of them.
   * Returns the unsubscribe function.
   */
  onPressure(listener: () => void): () => void;
}

/**
 * The bytes one call holds in the budget (see {@link ImageMemoryBudget.openAccount}). It keeps a
 * count, not the messages: a message given back (`releaseMessage`) is free to be collected at once,
 * while the call goes on (a stream's messages would otherwise all stay in memory until it ends).
 */
export interface ImageBudgetAccount {
  /**
   * Ties `bytes` (already acquired) to `message`, so that whoever ends up holding the message can
   * give them back with {@link ImageMemoryBudget.releaseMessage} without knowing the amount.
   */
  charge(message: object, bytes: number): void;
  /** Bytes charged to this account and not given back yet. */
  readonly held: number;
  /** Gives back everything still held; later releases of its messages are no-ops. Idempotent. */
  close(): void;
}

/**
 * A budget of `capacity` bytes. An amount larger than the whole budget is admitted only when
 * nothing else is held, so one oversized message can always pass (alone) instead of waiting
 * forever. Waiters are served in order: a large waiter is not overtaken by smaller waiters.
 */
export function createImageMemoryBudget(capacity: number): ImageMemoryBudget {
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new RangeError(`image memory budget: expected an integer >= 1 bytes, received ${capacity}`);
  }
  let inUse = 0;
  const waiters: { bytes: number; wake: () => void }[] = [];
  const charges = new WeakMap<object, { bytes: number; account: { held: number; closed: boolean } }>();
  const pressureListeners = new Set<() => void>();
  const fits = (bytes: number): boolean => inUse === 0 || inUse + bytes <= capacity;

  const wakeWaiters = (): void => {
    while (waiters.length > 0 && fits(waiters[0].bytes)) {
      const w = waiters.shift()!;
      inUse += w.bytes;
      w.wake();
    }
  };

  const budget: ImageMemoryBudget = {
    capacity,
    get inUse() {
      return inUse;
    },
    get waiting() {
      return waiters.length;
    },
    tryAcquire(bytes) {
      if (!fits(bytes)) return false;
      inUse += bytes;
      return true;
    },
    acquire(bytes, signal) {
      if (waiters.length === 0 && budget.tryAcquire(bytes)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) {
          reject(signal.reason);
          return;
        }
        const onAbort = (): void => {
          const i = waiters.indexOf(waiter);
          if (i >= 0) waiters.splice(i, 1);
          // A large waiter leaving may let smaller ones behind it in.
          wakeWaiters();
          reject(signal!.reason);
        };
        const waiter = {
          bytes,
          wake: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        waiters.push(waiter);
        signal?.addEventListener('abort', onAbort, { once: true });
        for (const listener of pressureListeners) {
          try {
            listener();
          } catch {
            // A holder failing to react must not break the waiter.
          }
        }
      });
    },
    release(bytes) {
      inUse = Math.max(0, inUse - bytes);
      wakeWaiters();
    },
    openAccount() {
      const state = { held: 0, closed: false };
      return {
        charge(message, bytes) {
          if (state.closed) {
            budget.release(bytes);
            return;
          }
          const entry = charges.get(message);
          if (entry && entry.account === state) entry.bytes += bytes;
          else {
            // Charged again by another call: the previous charge goes back first.
            if (entry) budget.releaseMessage(message);
            charges.set(message, { bytes, account: state });
          }
          state.held += bytes;
        },
        get held() {
          return state.held;
        },
        close() {
          if (state.closed) return;
          state.closed = true;
          const bytes = state.held;
          state.held = 0;
          budget.release(bytes);
        },
      };
    },
    releaseMessage(message) {
      const entry = charges.get(message);
      if (entry === undefined) return;
      charges.delete(message);
      if (entry.account.closed) return;
      entry.account.held -= entry.bytes;
      budget.release(entry.bytes);
    },
    onPressure(listener) {
      pressureListeners.add(listener);
      return () => pressureListeners.delete(listener);
    },
  };
  return budget;
}

/**
 * The bytes of the binary fields (images) of a decoded request message: every Uint8Array found
 * in it, looking into nested messages and oneofs up to three levels down (ImageRef.source.value).
 */
export function imageBytesOf(message: unknown, depth = 0): number {
  if (message instanceof Uint8Array) return message.byteLength;
  if (depth > 3 || message === null || typeof message !== 'object') return 0;
  let total = 0;
  for (const value of Object.values(message)) total += imageBytesOf(value, depth + 1);
  return total;
}
