import { describe, expect, test } from '@jest/globals';
import type { CanaryReleaseSpec } from '../../src/api/spec.js';
import { planSteps } from '../../src/core/steps.js';

const base: CanaryReleaseSpec = {
  service: 'reviews',
  virtualService: { name: 'reviews' },
  destinationRule: { name: 'reviews' },
  stable: { subset: 'v1' },
  canary: { subset: 'v2' },
};
const plan = (extra: Partial<CanaryReleaseSpec>) => planSteps({ ...base, ...extra });
const weights = (extra: Partial<CanaryReleaseSpec>) => plan(extra).map((s) => s.weight);

describe('planSteps with explicit steps', () => {
  test('keeps the weights and durations as given and appends the 100% step', () => {
    expect(plan({ steps: [{ weight: 5, duration: '30s' }, { weight: 20, duration: '2m' }] })).toEqual([
      { weight: 5, durationMs: 30_000 },
      { weight: 20, durationMs: 120_000 },
      { weight: 100, durationMs: 0 },
    ]);
  });

  test('does not append a second 100% step when the last step is 100', () => {
    expect(plan({ steps: [{ weight: 50, duration: '1m' }, { weight: 100 }] })).toEqual([
      { weight: 50, durationMs: 60_000 },
      { weight: 100, durationMs: 0 },
    ]);
  });

  test('a step without duration holds for the default 1m', () => {
    expect(plan({ steps: [{ weight: 30 }] })[0]).toEqual({ weight: 30, durationMs: 60_000 });
  });

  test('the 100% step always has duration 0', () => {
    expect(plan({ steps: [{ weight: 100 }] })).toEqual([{ weight: 100, durationMs: 0 }]);
  });
});

describe('planSteps with the stepWeight/maxWeight shorthand', () => {
  test('stepWeight alone walks to 100 in stepWeight increments with the default 1m hold', () => {
    expect(plan({ stepWeight: 20 })).toEqual([
      { weight: 20, durationMs: 60_000 },
      { weight: 40, durationMs: 60_000 },
      { weight: 60, durationMs: 60_000 },
      { weight: 80, durationMs: 60_000 },
      { weight: 100, durationMs: 0 },
    ]);
  });

  test('a stepWeight that does not divide 100 stops below 100 and then promotes', () => {
    expect(weights({ stepWeight: 30 })).toEqual([30, 60, 90, 100]);
  });

  test('maxWeight caps the walk and is itself a step when not a multiple', () => {
    expect(weights({ stepWeight: 20, maxWeight: 50 })).toEqual([20, 40, 50, 100]);
  });

  test('maxWeight that is a multiple of stepWeight is not repeated', () => {
    expect(weights({ stepWeight: 25, maxWeight: 50 })).toEqual([25, 50, 100]);
  });

  test('maxWeight equal to stepWeight gives one step', () => {
    expect(weights({ stepWeight: 40, maxWeight: 40 })).toEqual([40, 100]);
  });

  test('maxWeight 100 behaves as no cap', () => {
    expect(weights({ stepWeight: 50, maxWeight: 100 })).toEqual([50, 100]);
  });

  test('stepDuration applies to every step but the last', () => {
    expect(plan({ stepWeight: 50, maxWeight: 60, stepDuration: '1m30s' })).toEqual([
      { weight: 50, durationMs: 90_000 },
      { weight: 60, durationMs: 90_000 },
      { weight: 100, durationMs: 0 },
    ]);
  });
});

describe('planSteps defaults', () => {
  test('without steps or stepWeight the default plan is 10% 1m, 50% 1m, 100%', () => {
    expect(plan({})).toEqual([
      { weight: 10, durationMs: 60_000 },
      { weight: 50, durationMs: 60_000 },
      { weight: 100, durationMs: 0 },
    ]);
  });

  test('every plan ends with exactly one 100% step', () => {
    for (const extra of [{}, { stepWeight: 1 }, { stepWeight: 99 }, { steps: [{ weight: 1 }] }]) {
      const p = plan(extra);
      expect(p.at(-1)).toEqual({ weight: 100, durationMs: 0 });
      expect(p.filter((s) => s.weight === 100)).toHaveLength(1);
    }
  });

  test('stepWeight 1 gives 99 steps and the promotion', () => {
    expect(plan({ stepWeight: 1 })).toHaveLength(100);
  });
});
