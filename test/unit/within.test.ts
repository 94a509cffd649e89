import { describe, expect, jest, test } from '@jest/globals';
import { within } from '../../src/util/within.js';

const settledSoon = async (p: Promise<void>) => {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
};

describe('within', () => {
  test('resolves as soon as the work settles, fulfilled or rejected, before the time is up', async () => {
    jest.useFakeTimers();
    try {
      expect(await settledSoon(within(Promise.resolve('x'), 1_000))).toBe(true);
      expect(await settledSoon(within(Promise.reject(new Error('no')), 1_000))).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  test('resolves after the time when the work hangs, and not before', async () => {
    jest.useFakeTimers();
    try {
      const waiting = within(new Promise(() => undefined), 1_000);
      jest.advanceTimersByTime(999);
      expect(await settledSoon(waiting)).toBe(false);
      jest.advanceTimersByTime(1);
      expect(await settledSoon(waiting)).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });
});
