import { describe, expect, test } from '@jest/globals';
import { combinedVerdict } from '../../../src/analysis/sequential/combine-judgements.js';
import { plainNumber } from '../../../src/analysis/sequential/plain-number.js';
import { lnEvidenceAgainst, newEvidence, startStep, updateEvidence, type EventCounts } from '../../../src/analysis/sequential/ratio-evidence.js';
import { SEQUENTIAL_DEFAULTS, perGateFalseRollbackRate, type SequentialJudgeConfig } from '../../../src/analysis/sequential/sequential-config.js';
import { judge } from '../../../src/analysis/sequential/sequential-judge.js';

const CONFIG: SequentialJudgeConfig = {
  falseRollbackRate: 0.01, earlyPassErrorRate: 0.05, minRequests: 50, holdAbove: 3, subject: { kind: 'errors' },
};
const batch = (canaryEvents: number, canaryRequests: number, stableEvents: number, stableRequests: number): EventCounts =>
  ({ canaryRequests, canaryEvents, stableRequests, stableEvents });
// passRatio 1.5 as in the reference table of ratio-evidence.test.ts.
const evidence = (...batches: EventCounts[]) => batches.reduce(updateEvidence, newEvidence({ maxRatio: 1.2, passRatio: 1.5 }));

describe('sequential judge', () => {
  test('fails when the evidence against reaches 1/falseRollbackRate, saying the ratio, the counts and the evidence', () => {
    // Evidence against 2.7e10 for these counts (see the reference table in ratio-evidence.test.ts).
    const j = judge(evidence(batch(17, 67, 31, 2210)), CONFIG, { timeIsUp: false });
    expect(j.verdict).toBe('fail');
    expect(j.evidenceAgainst).toBeCloseTo(27224793554.1581, -2);
    expect(j.message).toBe("canary error rate 18x stable's, 17 of 67 vs 31 of 2,210; evidence 2.7e10 against reached the bound of 100");
  });

  test('fails exactly when ln(evidence against) reaches ln(1/falseRollbackRate)', () => {
    const s = evidence(batch(4, 100, 6, 900), batch(9, 500, 3, 500)); // evidence against 11.30
    expect(judge(s, { ...CONFIG, falseRollbackRate: 1 / 11.3 }, { timeIsUp: false }).verdict).toBe('fail');
    expect(judge(s, { ...CONFIG, falseRollbackRate: 1 / 11.31 }, { timeIsUp: false }).verdict).toBe('continue');
    expect(judge(s, { ...CONFIG, falseRollbackRate: Math.exp(-lnEvidenceAgainst(s)) }, { timeIsUp: false }).verdict).toBe('fail');
  });

  test('fails even when the step\'s time is up and the evidence for is strong too: a rollback is never outvoted', () => {
    expect(judge(evidence(batch(17, 67, 31, 2210)), { ...CONFIG, earlyPassErrorRate: 0.99 }, { timeIsUp: true }).verdict).toBe('fail');
  });

  test('continues while the step runs and neither bound is reached, saying the ratio and the evidence against its bound', () => {
    const j = judge(evidence(batch(4, 100, 6, 900), batch(9, 500, 3, 500)), CONFIG, { timeIsUp: false });
    expect(j.verdict).toBe('continue');
    expect(j.message).toBe("canary error rate 3.4x stable's, 13 of 600 vs 9 of 1,400; evidence 11 against a bound of 100");
  });

  test('with no errors at all, passes when the step\'s time is up and it had minRequests canary requests', () => {
    const j = judge(evidence(batch(0, 60, 0, 540)), CONFIG, { timeIsUp: true });
    expect(j.verdict).toBe('pass');
    expect(j.message).toBe("no errors yet in 60 canary and 540 stable requests; evidence 1 against a bound of 100, 1 for when the step's time is up: passes");
  });

  test('holds when the step\'s time is up with fewer than minRequests canary requests at this step', () => {
    const j = judge(evidence(batch(0, 12, 0, 108)), CONFIG, { timeIsUp: true });
    expect(j.verdict).toBe('continue');
    expect(j.message).toContain('holding: 12 canary requests at this step (need 50)');
  });

  test('counts minRequests from the step\'s start: a new step needs its own', () => {
    const s = startStep(evidence(batch(0, 500, 0, 4500)));
    expect(judge(s, CONFIG, { timeIsUp: true }).verdict).toBe('continue');
    expect(judge(updateEvidence(s, batch(0, 50, 0, 50)), CONFIG, { timeIsUp: true }).verdict).toBe('pass');
  });

  test('holds at the step\'s end while the evidence against is more than holdAbove times the evidence for', () => {
    // One canary error and none on stable: against 2.9, for 0.52 (ratio 5.6 > 3).
    const s = evidence(batch(1, 60, 0, 540));
    const j = judge(s, CONFIG, { timeIsUp: true });
    expect(j.verdict).toBe('continue');
    expect(j.evidenceAgainst / j.evidenceFor).toBeGreaterThan(3);
    expect(j.message).toContain('holding while against is more than 3 times for');
    expect(judge(s, { ...CONFIG, holdAbove: 10 }, { timeIsUp: true }).verdict).toBe('pass');
  });

  test('passes early, before the step\'s time is up, when the evidence for reaches 1/earlyPassErrorRate', () => {
    // Evidence for 4.2e16 (reference table): a canary clearly better than passRatio 1.5.
    const j = judge(evidence(batch(200, 20000, 300, 20000)), CONFIG, { timeIsUp: false });
    expect(j.verdict).toBe('pass');
    expect(j.message).toMatch(/evidence 4\.2e16 for reached the bound of 20: passes early$/);
  });

  test('does not pass early without minRequests canary requests at this step', () => {
    expect(judge(evidence(batch(0, 40, 60, 360)), CONFIG, { timeIsUp: false }).verdict).toBe('continue');
  });

  test('names the latency boundary for slow-request gates, and says when stable had none', () => {
    const j = judge(evidence(batch(3, 400, 0, 3600)), { ...CONFIG, subject: { kind: 'slow', boundaryMs: 250 } }, { timeIsUp: false });
    expect(j.message).toMatch(/^canary share of requests slower than 250ms 0\.75% while stable had none, 3 of 400 vs 0 of 3,600; /);
  });
});

describe('combining sequential gates', () => {
  test('any failure fails, all passing passes, anything else continues', () => {
    expect(combinedVerdict(['pass', 'fail'])).toBe('fail');
    expect(combinedVerdict(['pass', 'pass'])).toBe('pass');
    expect(combinedVerdict(['pass', 'continue'])).toBe('continue');
    expect(combinedVerdict([])).toBe('continue');
  });

  test('gates share the release\'s false-rollback rate equally, so the release keeps its bound', () => {
    expect(perGateFalseRollbackRate(0.01, 2)).toBe(0.005);
    expect(perGateFalseRollbackRate(0.01, 1)).toBe(0.01);
    expect(() => perGateFalseRollbackRate(1.5, 1)).toThrow(RangeError);
  });

  test('defaults as measured by the benchmark', () => {
    expect(SEQUENTIAL_DEFAULTS).toMatchObject({ falseRollbackRate: 0.01, earlyPassErrorRate: 0.05, minRequests: 25, holdAbove: 3, errorMaxRatio: 1.2, latencyMaxRatio: 1.2 });
  });
});

describe('plain numbers', () => {
  test.each([[0.4213, '0.42'], [4.13, '4.1'], [48.2, '48'], [2210, '2,210'], [3.1e9, '3.1e9'], [Number.POSITIVE_INFINITY, 'more than 1e308'], [1, '1']])(
    '%p reads %p', (n, text) => {
      expect(plainNumber(n)).toBe(text);
    });
});
