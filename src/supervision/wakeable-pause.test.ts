import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createWakeablePause } from './wakeable-pause.js';

/** Whether the promise has settled by now, without waiting for it. */
async function settled(promise: Promise<void>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await Promise.resolve();
  await Promise.resolve();
  return done;
}

describe('a pause that can be woken early', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('lasts its full time when nobody wakes it', async () => {
    const pause = createWakeablePause();
    const sleep = pause.sleep(1000);
    await vi.advanceTimersByTimeAsync(999);
    expect(await settled(sleep)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(sleep)).toBe(true);
  });

  it('ends at once on wake, and leaves no timer behind to keep a stopped process alive', async () => {
    const pause = createWakeablePause();
    const sleep = pause.sleep(60_000);
    expect(vi.getTimerCount()).toBe(1);
    pause.wake();
    expect(await settled(sleep)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not remember a wake while nothing sleeps: the next sleep waits its full time', async () => {
    const pause = createWakeablePause();
    pause.wake();
    const sleep = pause.sleep(1000);
    expect(await settled(sleep)).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await settled(sleep)).toBe(true);
  });

  it('wakes every sleep under way, and each only once', async () => {
    const pause = createWakeablePause();
    const first = pause.sleep(5000);
    const second = pause.sleep(10);
    await vi.advanceTimersByTimeAsync(10);
    expect(await settled(second)).toBe(true);
    expect(await settled(first)).toBe(false);
    const third = pause.sleep(5000);
    pause.wake();
    expect([await settled(first), await settled(third)]).toEqual([true, true]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
