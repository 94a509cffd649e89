import { describe, expect, test } from '@jest/globals';
import { parseOptions } from '../../../bench/scale/options.js';

describe('bench:scale options', () => {
  test('default to N = 10, 100, 1000 with the stated load; --quick is N = 10', () => {
    expect(parseOptions([])).toEqual({
      counts: [10, 100, 1000], namespaces: 10, badEvery: 10, rps: 40, backgroundServices: 5000, scrapeIntervalSeconds: 5,
      failureLimit: 3, idleSeconds: 60, deadlineSeconds: 1800, env: {}, cpuProfile: false,
    });
    expect(parseOptions(['--quick'])).toMatchObject({ counts: [10] });
    expect(parseOptions(['--n', '100'])).toMatchObject({ counts: [100] });
  });

  test('pass operator settings through, and only those', () => {
    expect(parseOptions(['--env', 'WORKERS=8', '--env', 'ANALYSIS_CONCURRENCY=16', '--cpu-prof', '--background-services', '0'])).toMatchObject({
      env: { WORKERS: '8', ANALYSIS_CONCURRENCY: '16' }, cpuProfile: true, backgroundServices: 0,
    });
    expect(() => parseOptions(['--env', 'KUBECONFIG=/x'])).toThrow(/not an operator setting/);
    expect(() => parseOptions(['--env', 'WORKERS'])).toThrow(/KEY=VALUE/);
  });

  test('reject bad numbers and conflicting flags', () => {
    expect(() => parseOptions(['--n', '10,x'])).toThrow(/--n/);
    expect(() => parseOptions(['--quick', '--n', '5'])).toThrow(/choose one/);
    expect(() => parseOptions(['--idle-seconds', '-1'])).toThrow(/--idle-seconds/);
  });
});
