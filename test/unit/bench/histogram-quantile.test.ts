// The benchmark's stand-in for Prometheus' histogram_quantile, checked on
// values worked out by hand from its documented interpolation.
import { describe, expect, test } from '@jest/globals';
import { histogramQuantile } from '../../../bench/judge/histogram-quantile.js';

const B = [1, 2, 5];

describe('histogramQuantile', () => {
  test('interpolates linearly inside the bucket holding the rank: p50 of 10 requests in (1, 2] is 1.5', () => {
    expect(histogramQuantile(0.5, B, [0, 10, 10, 10])).toBe(1.5);
  });

  test('starts the first bucket at 0: p50 of 4 requests in [0, 1] is 0.5', () => {
    expect(histogramQuantile(0.5, B, [4, 4, 4, 4])).toBe(0.5);
  });

  test('answers with the highest finite boundary when the rank is in +Inf', () => {
    expect(histogramQuantile(0.99, B, [0, 0, 9, 10])).toBe(5);
  });

  test('is NaN without requests', () => {
    expect(histogramQuantile(0.99, B, [0, 0, 0, 0])).toBeNaN();
  });

  test('p99 of 1,000 requests, 985 within 100ms and 998 within 250ms, is 100 + 150 * 5/13 ms', () => {
    expect(histogramQuantile(0.99, [50, 100, 250, 500], [900, 985, 998, 1000, 1000])).toBeCloseTo(100 + (150 * 5) / 13, 10);
  });
});
