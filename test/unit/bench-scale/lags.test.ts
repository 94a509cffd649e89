import { describe, expect, test } from '@jest/globals';
import { activeAt, computeLags } from '../../../bench/scale/lags.js';
import { observe, record, transitionIndices, type ObservedStatus, type ReleaseHistory } from '../../../bench/scale/release-history.js';

const T = Date.parse('2026-01-01T00:00:00Z');
const iso = (s: number) => new Date(T + s * 1000).toISOString();
let rv = 0;
const st = (s: Partial<ObservedStatus>): ObservedStatus => ({ seenAt: 0, resourceVersion: String(++rv), ...s });

/** Created at 0; step 1 at 0.5 s, a passing round at 60 lets step 2 start at 60.8; promoted at 90.4 after the round at 90. */
const good: ReleaseHistory = {
  namespace: 'a', name: 'good', creationTimestamp: iso(0),
  statuses: [
    st({ phase: 'Pending', currentStep: 0 }),
    st({ phase: 'Progressing', currentStep: 1, stepStartedAt: iso(0.5) }),
    st({ phase: 'Progressing', currentStep: 1, stepStartedAt: iso(0.5), evaluatedAt: iso(30) }),
    st({ phase: 'Progressing', currentStep: 2, stepStartedAt: iso(60.8), evaluatedAt: iso(60) }),
    st({ phase: 'Succeeded', currentStep: 3, stepStartedAt: iso(60.8), evaluatedAt: iso(90), completedAt: iso(90.4) }),
  ],
};
/** Rolled back by the round at 90; its route was written at 91.2. */
const bad: ReleaseHistory = {
  namespace: 'a', name: 'bad', creationTimestamp: iso(0),
  statuses: [
    st({ phase: 'Pending', currentStep: 0 }),
    st({ phase: 'Progressing', currentStep: 1, stepStartedAt: iso(1) }),
    st({ phase: 'RolledBack', currentStep: 1, stepStartedAt: iso(1), evaluatedAt: iso(90), completedAt: iso(91) }),
  ],
};

describe('release history', () => {
  test('counts each change of currentStep or phase as a transition, not a new round', () => {
    expect(transitionIndices(good.statuses)).toEqual([0, 1, 3, 4]);
    expect(transitionIndices(bad.statuses)).toEqual([0, 1, 2]);
  });

  test('keeps each distinct status once, and nothing for a release without status', () => {
    const h: ReleaseHistory = { namespace: 'a', name: 'r', creationTimestamp: iso(0), statuses: [] };
    const obj = { metadata: { resourceVersion: '7' }, status: { phase: 'Pending', currentStep: 0, analysis: { evaluatedAt: iso(30), verdict: 'Pass' } } };
    record(h, observe(obj, 5)!);
    record(h, observe(obj, 6)!);
    expect(h.statuses).toEqual([{ seenAt: 5, resourceVersion: '7', phase: 'Pending', currentStep: 0, evaluatedAt: iso(30), verdict: 'Pass' }]);
    expect(observe({ metadata: {}, status: {} }, 1)).toBeUndefined();
  });
});

describe('lags', () => {
  test('measure the first step from creation, steps from eligibility, rollbacks to the route write', () => {
    const lags = computeLags([good, bad], {
      stepDurationsMs: [30_000, 30_000],
      createdAt: new Map([['a/good', T + 100]]),
      lastRouteWrite: new Map([['a/bad', T + 91_200]]),
    });
    expect(lags.firstStep.map(Math.round)).toEqual([400, 1000]);
    // Step 1 was eligible at the round at 60 (after 30.5 by duration), step 2 at the round at 90 (after 90.8 by duration: applied early).
    expect(lags.stepFromEligible.map(Math.round)).toEqual([800, -400]);
    expect(lags.stepFromDuration.map(Math.round)).toEqual([30_300, -400]);
    expect(lags.rollback.map(Math.round)).toEqual([1200]);
  });

  test('count releases between their first step and their end as active', () => {
    expect(activeAt([good, bad], T + 0.2 * 1000)).toBe(0);
    expect(activeAt([good, bad], T + 60_000)).toBe(2);
    expect(activeAt([good, bad], T + 90_600)).toBe(1);
    expect(activeAt([good, bad], T + 95_000)).toBe(0);
  });
});
