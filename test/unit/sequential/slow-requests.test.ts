import { describe, expect, test } from '@jest/globals';
import { slowBoundaryMs, slowRequests, type BucketCount } from '../../../src/analysis/sequential/slow-requests.js';

const ISTIO = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
/** Cumulative Istio buckets from the counts at each boundary (missing ones repeat the last), then +Inf. */
function histogram(at: Record<number, number>, total: number): BucketCount[] {
  let last = 0;
  return [...ISTIO.map((le) => ({ le, count: (last = at[le] ?? last) })), { le: Number.POSITIVE_INFINITY, count: total }];
}

describe('the latency boundary of a slow-request gate', () => {
  test('is the boundary whose share of slower stable requests is nearest 1% for p99 (1.5% at 100ms beats 0.2% at 250ms)', () => {
    expect(slowBoundaryMs(histogram({ 50: 900, 100: 985, 250: 998, 500: 1000 }, 1000), 99)).toBe(100);
  });

  test('compares shares by ratio: 6.4% (25ms) is nearer 1% than 0.13% (50ms)', () => {
    // A simulated stable with p99 36ms over an hour: 6.43% slower than 25ms, 0.134% slower than 50ms.
    const h = histogram({ 2: 92, 5: 48170, 10: 589739, 25: 1682318, 50: 1795619, 100: 1798018, 250: 1798025 }, 1798025);
    expect(slowBoundaryMs(h, 99)).toBe(25);
  });

  test('aims at 5% for p95', () => {
    expect(slowBoundaryMs(histogram({ 50: 900, 100: 960, 250: 998, 500: 1000 }, 1000), 95)).toBe(100);
  });

  test('is undefined with fewer stable requests than one expected slow one (100 for p99)', () => {
    expect(slowBoundaryMs(histogram({ 100: 98, 250: 99 }, 99), 99)).toBeUndefined();
    expect(slowBoundaryMs(histogram({ 100: 98, 250: 100 }, 100), 99)).toBe(100);
  });

  test('is undefined when no stable request was slower than any finite boundary', () => {
    expect(slowBoundaryMs(histogram({ 1: 5000 }, 5000), 99)).toBeUndefined();
  });

  test('refuses percentiles outside (0, 100)', () => {
    expect(() => slowBoundaryMs(histogram({}, 0), 100)).toThrow(RangeError);
  });
});

describe('slow requests from a cumulative histogram', () => {
  test('are the +Inf count minus the count at the boundary', () => {
    expect(slowRequests(histogram({ 100: 985, 250: 998 }, 1000), 250)).toEqual({ requests: 1000, slow: 2 });
  });

  test('are undefined when the histogram lacks the boundary or +Inf', () => {
    expect(slowRequests(histogram({ 100: 985 }, 1000), 300)).toBeUndefined();
    expect(slowRequests([{ le: 250, count: 4 }], 250)).toBeUndefined();
  });
});
