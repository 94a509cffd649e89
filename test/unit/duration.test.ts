import { describe, expect, test } from '@jest/globals';
import { DURATION_PATTERN, formatDuration, parseDuration } from '../../src/core/duration.js';

describe('parseDuration', () => {
  test.each([
    ['500ms', 500],
    ['1s', 1_000],
    ['90s', 90_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1h2m3s4ms', 3_723_004],
    ['1.5s', 1_500],
    ['0.5m', 30_000],
    ['1.0005s', 1_001],
    ['0s', 0],
    ['1s1s', 2_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each(['', '10', 's', '1d', '1 m', '-1s', '+1s', '1m ', ' 1m', '1S', '.5s', '1.s', 'ms'])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  test('DURATION_PATTERN accepts exactly what parseDuration accepts', () => {
    const re = new RegExp(DURATION_PATTERN);
    for (const t of ['1m30s', '500ms', '1d', '', '1.5h']) expect(re.test(t)).toBe(parseDuration(t) !== undefined);
  });
});

describe('formatDuration', () => {
  test.each([
    [0, '0ms'],
    [-5, '0ms'],
    [250, '250ms'],
    [999, '999ms'],
    [1_000, '1s'],
    [1_500, '1.5s'],
    [59_000, '59s'],
    [60_000, '1m'],
    [90_000, '1m30s'],
    [100_000, '1m40s'],
    [3_600_000, '1h'],
    [3_661_000, '1h1m1s'],
    [3_601_500, '1h1.5s'],
    [59_999, '1m'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  test.each([1_000, 1_500, 90_000, 3_661_000, 7_200_000])('round-trips %d ms through parseDuration', (ms) => {
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});
