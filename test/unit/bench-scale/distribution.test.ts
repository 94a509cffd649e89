import { describe, expect, test } from '@jest/globals';
import { distribution, parseTime } from '../../../bench/scale/distribution.js';

describe('distribution', () => {
  test('gives the nearest-rank median, p99 and max, ignoring non-finite values', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(distribution([...values, Number.NaN])).toEqual({ count: 100, median: 50, p99: 99, max: 100 });
    expect(distribution([3])).toEqual({ count: 1, median: 3, p99: 3, max: 3 });
    expect(distribution([])).toBeUndefined();
  });
});

describe('parseTime', () => {
  test('keeps the microseconds of audit timestamps', () => {
    expect(parseTime('2026-12-01T11:03:03.144123Z') - Date.parse('2026-12-01T11:03:03Z')).toBeCloseTo(144.123, 3);
    expect(parseTime('2026-12-01T11:03:03Z')).toBe(Date.parse('2026-12-01T11:03:03Z'));
    expect(parseTime('2026-12-01T12:03:03.5+01:00')).toBe(Date.parse('2026-12-01T11:03:03.500Z'));
    expect(parseTime('yesterday')).toBeNaN();
    expect(parseTime(undefined)).toBeNaN();
  });
});
