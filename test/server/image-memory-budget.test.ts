/**
 * The image memory budget's per-call accounts: a count of bytes, not the messages, so a message
 * given back may be collected while its call goes on; closing gives back the rest once.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { createImageMemoryBudget } from '../../src/server/image-memory-budget.js';

/** A full collection (the flag is set at run time, as jest's workers run without --expose-gc). */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

describe('image memory budget accounts', () => {
  test('releaseMessage gives back one message; close gives back the rest, once; later releases are no-ops', () => {
    const budget = createImageMemoryBudget(1000);
    const account = budget.openAccount();
    const [a, b, c] = [{}, {}, {}];
    for (const [m, bytes] of [[a, 100], [b, 200], [c, 300]] as const) {
      expect(budget.tryAcquire(bytes)).toBe(true);
      account.charge(m, bytes);
    }
    expect(budget.inUse).toBe(600);
    budget.releaseMessage(b);
    budget.releaseMessage(b);
    expect([budget.inUse, account.held]).toEqual([400, 400]);
    account.close();
    account.close();
    expect([budget.inUse, account.held]).toEqual([0, 0]);
    budget.releaseMessage(a);
    expect(budget.inUse).toBe(0);
    // Another call's bytes are not touched by the closed account's late releases.
    const other = budget.openAccount();
    expect(budget.tryAcquire(50)).toBe(true);
    other.charge({}, 50);
    budget.releaseMessage(c);
    expect(budget.inUse).toBe(50);
  });

  test('an account holds no reference to its messages', async () => {
    const budget = createImageMemoryBudget(1 << 30);
    const account = budget.openAccount();
    let collected = false;
    const watcher = new FinalizationRegistry<string>(() => (collected = true));
    (() => {
      const message = { image: Buffer.alloc(1 << 20) };
      budget.tryAcquire(message.image.length);
      account.charge(message, message.image.length);
      watcher.register(message, 'message');
      budget.releaseMessage(message);
    })();
    for (let i = 0; i < 10 && !collected; i++) {
      collectGarbage();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(collected).toBe(true);
    expect(account.held).toBe(0);
  });
});
