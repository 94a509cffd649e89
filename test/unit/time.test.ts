import { describe, expect, test } from '@jest/globals';
import { MAX_DELAY_MS, clampDelay, isoOf, timeOf } from '../../src/core/time.js';
import { NOW, iso } from './release-fixtures.js';

describe('time helpers that cannot throw', () => {
  test('timeOf reads ISO times, at most now; unreadable is undefined', () => {
    expect(timeOf(iso(-10), NOW)).toBe(NOW.getTime() - 10_000);
    expect(timeOf(iso(3600), NOW)).toBe(NOW.getTime());
    expect(timeOf('not a time', NOW)).toBeUndefined();
    expect(timeOf(undefined, NOW)).toBeUndefined();
  });

  test('isoOf never throws, even far beyond what a Date can hold', () => {
    expect(isoOf(NOW.getTime())).toBe(NOW.toISOString());
    expect(() => isoOf(3e9 * 3_600_000 * 1e6)).not.toThrow();
    expect(isoOf(Number.POSITIVE_INFINITY)).toBe(new Date(0).toISOString());
    expect(isoOf(Number.NaN)).toBe(new Date(0).toISOString());
  });

  test('clampDelay keeps requeues within [100 ms, 24 days] (Node cannot time more than 24.8 days)', () => {
    expect(clampDelay(undefined)).toBeUndefined();
    expect(clampDelay(0)).toBe(100);
    expect(clampDelay(-5)).toBe(100);
    expect(clampDelay(600 * 3_600_000)).toBe(MAX_DELAY_MS);
    expect(MAX_DELAY_MS).toBeLessThan(2 ** 31 - 1);
    expect(clampDelay(Number.POSITIVE_INFINITY)).toBe(MAX_DELAY_MS);
    expect(clampDelay(Number.NaN)).toBe(100);
    expect(clampDelay(1234.5)).toBe(1235);
  });
});
