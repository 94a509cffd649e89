import { describe, expect, test } from '@jest/globals';
import type { AnalysisSpec, Gate } from '../../../src/api/analysis-spec.js';
import { GateVerdict, type AnalysisStatus, type GateResult } from '../../../src/api/analysis-status.js';
import { Reason } from '../../../src/api/conditions.js';
import type { CanaryReleaseStatus } from '../../../src/api/status.js';
import {
  evidenceAllowsAdvance, firstRoundForStep, holdMessage, isNewRound, recordRound, roundDue, summarize, untilNextRound, type AnalysisRound, type RoundOutcome,
} from '../../../src/core/analysis-rules.js';
import { roundOffsetMs } from '../../../src/core/plan.js';
import { NOW, at, iso, progressing } from '../release-fixtures.js';
import { SUBSETS, analysisSpec, failed, measured, planOfAnalysis, roundOf } from './analysis-fixtures.js';

const ERRORS: Gate = { name: 'errors', errorRate: { max: '1%' } };
const SPEC = analysisSpec([ERRORS]);
const PLAN = planOfAnalysis(SPEC);

const passAt = (when: Date, spec: AnalysisSpec = SPEC) => roundOf(spec, measured({ canary: { total: 100, errors: 0 } }), when);
const failAt = (when: Date, spec: AnalysisSpec = SPEC) => roundOf(spec, measured({ canary: { total: 100, errors: 20 } }), when);
const inconclusiveAt = (when: Date, spec: AnalysisSpec = SPEC) => roundOf(spec, measured({ canary: { total: 10, errors: 0 } }), when);
const errorAt = (when: Date, spec: AnalysisSpec = SPEC) => roundOf(spec, measured({ requestsError: 'cannot reach Prometheus: ECONNREFUSED' }), when);

const FAIL_MSG = 'error rate 20% > 1% (20 of 100 v2 requests in 1m)';

/** Feeds rounds through recordRound one after another, as decide does. */
function play(rounds: AnalysisRound[], spec: AnalysisSpec = SPEC, start?: AnalysisStatus): RoundOutcome[] {
  let prev = start;
  return rounds.map((r) => {
    const out = recordRound(planOfAnalysis(spec), prev, r, SUBSETS);
    prev = out.analysis;
    return out;
  });
}
const last = <T>(xs: T[]): T => xs[xs.length - 1] as T;

describe('roundDue: the one predicate that says when analysis is due', () => {
  const P = planOfAnalysis(SPEC);
  const st = (extra: Partial<CanaryReleaseStatus> = {}): CanaryReleaseStatus => progressing(1, 10, iso(-600), { measureFrom: iso(-600), ...extra });
  const round = (evaluatedAt: string): AnalysisStatus => ({ evaluatedAt, verdict: GateVerdict.Pass, consecutiveFailures: 0, gates: [] });

  test('is due at the current interval boundary when no round was ever evaluated', () => {
    expect(roundDue(P, st(), at(10))).toEqual(NOW);
  });
  test('is not due again within the same interval (default 30s)', () => {
    expect(roundDue(P, st({ analysis: round(iso(0)) }), at(29.999))).toBeUndefined();
  });
  test('is due at the next wall-clock boundary, evaluated at that boundary', () => {
    expect(roundDue(P, st({ analysis: round(iso(0)) }), at(31))).toEqual(at(30));
  });
  test('follows spec.interval', () => {
    const p = planOfAnalysis(analysisSpec([ERRORS], { interval: '1m' }));
    expect(roundDue(p, st({ analysis: round(iso(0)) }), at(59))).toBeUndefined();
    expect(roundDue(p, st({ analysis: round(iso(0)) }), at(60))).toEqual(at(60));
  });
  test('waits for fresh data: no round until its whole window lies after measureFrom (a start, retry or resume)', () => {
    expect(roundDue(P, st({ measureFrom: iso(0) }), at(45))).toBeUndefined();
    expect(roundDue(P, st({ measureFrom: iso(0) }), at(60))).toEqual(at(60));
  });
  test.each([
    ['Pending', { phase: 'Pending' as const }],
    ['Paused', { phase: 'Paused' as const }],
    ['at 0%', { canaryWeight: 0 }],
    ['held', { heldSince: iso(-5) }],
  ])('is never due while %s', (_, extra) => {
    expect(roundDue(P, st(extra), at(10))).toBeUndefined();
  });
  test('a round evaluated in the future (a fast clock) counts as now: not due again before the next boundary', () => {
    expect(roundDue(P, st({ analysis: round(iso(3600)) }), at(10))).toBeUndefined();
  });
});

describe('untilNextRound', () => {
  const P = planOfAnalysis(SPEC);
  test('a round due now is being measured: the next look is at the following boundary', () => {
    expect(untilNextRound(P, progressing(1, 10, iso(-600)), NOW)).toBe(30_000);
    expect(untilNextRound(P, progressing(1, 10, iso(-600)), at(10))).toBe(20_000);
  });
  test('waits for the first boundary whose window lies after measureFrom', () => {
    expect(untilNextRound(P, progressing(1, 10, iso(0), { measureFrom: iso(0) }), at(5))).toBe(55_000);
  });
});

describe('isNewRound', () => {
  const P = planOfAnalysis(SPEC);
  const st = progressing(1, 10, iso(-600), { measureFrom: iso(-100), analysis: { evaluatedAt: iso(-30), verdict: GateVerdict.Pass, consecutiveFailures: 0, gates: [] } });
  test('a later round with its window after measureFrom is new', () => {
    expect(isNewRound(passAt(at(0)), st, NOW)).toBe(true);
  });
  test('the same round again is not: one measurement is one check', () => {
    expect(isNewRound(passAt(at(-30)), st, NOW)).toBe(false);
  });
  test('a round whose window starts before measureFrom is not fresh data', () => {
    expect(isNewRound(passAt(at(-20)), { ...st, measureFrom: iso(-50) }, NOW)).toBe(false);
  });
  test('a round from the future is not taken', () => {
    expect(isNewRound(passAt(at(30)), st, NOW)).toBe(false);
  });
  void P;
});

describe('evidenceAllowsAdvance: a passing round whose whole window lies after the step began', () => {
  const withRound = (verdict: GateVerdict, evaluatedAt: number, stepStartedAt: number, windowS = 60) =>
    progressing(1, 10, iso(stepStartedAt), { measureFrom: iso(-3600), analysis: { evaluatedAt: iso(evaluatedAt), measuredFrom: iso(evaluatedAt - windowS), verdict, consecutiveFailures: 0, gates: [] } });

  test('no round yet does not allow advancing', () => {
    expect(evidenceAllowsAdvance(progressing(1, 10, iso(0)), NOW)).toBe(false);
  });
  test('a passing round whose window starts after the step began allows advancing', () => {
    expect(evidenceAllowsAdvance(withRound(GateVerdict.Pass, 70, 0), at(80))).toBe(true);
  });
  test('a passing round whose window starts exactly when the step began allows advancing', () => {
    expect(evidenceAllowsAdvance(withRound(GateVerdict.Pass, 60, 0), at(80))).toBe(true);
  });
  test('a passing round evaluated after the step began, with a window reaching back before it, does not', () => {
    expect(evidenceAllowsAdvance(withRound(GateVerdict.Pass, 30, 0), at(80))).toBe(false);
  });
  test('a passing round from before the step began does not', () => {
    expect(evidenceAllowsAdvance(withRound(GateVerdict.Pass, -1, 0), at(80))).toBe(false);
  });
  test('a round without a recorded window (an older operator) does not', () => {
    const st = progressing(1, 10, iso(0), { analysis: { evaluatedAt: iso(70), verdict: GateVerdict.Pass, consecutiveFailures: 0, gates: [] } });
    expect(evidenceAllowsAdvance(st, at(80))).toBe(false);
  });
  test.each([GateVerdict.Fail, GateVerdict.Inconclusive, GateVerdict.Error])('a %s round does not allow advancing', (v) => {
    expect(evidenceAllowsAdvance(withRound(v, 70, 0), at(80))).toBe(false);
  });
});

describe('recordRound', () => {
  test('stores the round: evaluatedAt, verdict and every gate result', () => {
    const r = failAt(at(0));
    const out = recordRound(PLAN, undefined, r, SUBSETS);
    expect(out.analysis).toEqual({ evaluatedAt: iso(0), measuredFrom: iso(-60), verdict: GateVerdict.Fail, consecutiveFailures: 1, gates: r.results });
  });

  test('a first Pass emits no event (the step it lets advance says so) and no failure', () => {
    const out = recordRound(PLAN, undefined, passAt(at(0)), SUBSETS);
    expect(out.analysis.consecutiveFailures).toBe(0);
    expect(out.events).toEqual([]);
    expect(out.end).toBeUndefined();
  });

  test('a Pass after a Pass emits no event', () => {
    expect(last(play([passAt(at(0)), passAt(at(30))])).events).toEqual([]);
  });

  test('Pass resets consecutiveFailures, inconclusiveSince and errorSince', () => {
    const prev: AnalysisStatus = {
      evaluatedAt: iso(-30), verdict: GateVerdict.Error, consecutiveFailures: 2, inconclusiveSince: iso(-120), errorSince: iso(-60), gates: [],
    };
    const out = recordRound(PLAN, prev, passAt(at(0)), SUBSETS);
    expect(out.analysis.consecutiveFailures).toBe(0);
    expect(out.analysis).not.toHaveProperty('inconclusiveSince');
    expect(out.analysis).not.toHaveProperty('errorSince');
  });

  test('Fail increments consecutiveFailures with one Warning GateFailed event naming the check count', () => {
    const out = recordRound(PLAN, undefined, failAt(at(0)), SUBSETS);
    expect(out.analysis.consecutiveFailures).toBe(1);
    expect(out.events).toEqual([{ type: 'Warning', reason: Reason.GateFailed, message: `Check 1/3 failed for v2: ${FAIL_MSG}` }]);
    expect(out.end).toBeUndefined();
  });

  test('every failing round emits its own event, even without a verdict change', () => {
    const outs = play([failAt(at(0)), failAt(at(30))]);
    expect(outs.map((o) => o.events.map((e) => e.message))).toEqual([[`Check 1/3 failed for v2: ${FAIL_MSG}`], [`Check 2/3 failed for v2: ${FAIL_MSG}`]]);
  });

  test('the failureLimit-th consecutive Fail (default 3) returns an AnalysisFailed failure with the gate message', () => {
    const outs = play([failAt(at(0)), failAt(at(30)), failAt(at(60))]);
    expect(outs.map((o) => o.end)).toEqual([undefined, undefined, { kind: 'failed', reason: Reason.AnalysisFailed, message: `${FAIL_MSG} on 3 consecutive checks` }]);
  });

  test('honours spec.endLimit (1 fails at once)', () => {
    const spec = analysisSpec([ERRORS], { failureLimit: 1 });
    const out = recordRound(planOfAnalysis(spec), undefined, failAt(at(0), spec), SUBSETS);
    expect(out.end).toEqual({ kind: 'failed', reason: Reason.AnalysisFailed, message: `${FAIL_MSG} on 1 consecutive checks` });
  });

  test('a Pass between Fails starts the count again', () => {
    const outs = play([failAt(at(0)), failAt(at(30)), passAt(at(60)), failAt(at(90)), failAt(at(120))]);
    expect(outs.map((o) => o.analysis.consecutiveFailures)).toEqual([1, 2, 0, 1, 2]);
    expect(outs.every((o) => o.end === undefined)).toBe(true);
  });

  test('Inconclusive and Error rounds neither count nor reset failures', () => {
    const outs = play([failAt(at(0)), failAt(at(30)), inconclusiveAt(at(60)), errorAt(at(90)), failAt(at(120))]);
    expect(outs.map((o) => o.analysis.consecutiveFailures)).toEqual([1, 2, 2, 2, 3]);
    expect(last(outs).end?.reason).toBe(Reason.AnalysisFailed);
  });

  test('Inconclusive sets inconclusiveSince once and emits one Normal event on the change only', () => {
    const outs = play([passAt(at(0)), inconclusiveAt(at(30)), inconclusiveAt(at(60))]);
    expect(outs[1]?.analysis.inconclusiveSince).toBe(iso(30));
    expect(outs[2]?.analysis.inconclusiveSince).toBe(iso(30));
    expect(outs[1]?.events).toEqual([{
      type: 'Normal', reason: Reason.AnalysisInconclusive,
      message: 'Holding: not enough data to judge v2: errors: only 10 v2 requests in the last 1m (need 50)',
    }]);
    expect(outs[2]?.events).toEqual([]);
  });

  test('Inconclusive turns into an AnalysisInconclusive failure after inconclusiveTimeout (default 30m), not before', () => {
    const start = inconclusiveAt(at(0));
    const first = recordRound(PLAN, undefined, start, SUBSETS).analysis;
    expect(recordRound(PLAN, first, inconclusiveAt(at(30 * 60 - 1)), SUBSETS).end).toBeUndefined();
    const out = recordRound(PLAN, first, inconclusiveAt(at(30 * 60)), SUBSETS);
    expect(out.end?.reason).toBe(Reason.AnalysisInconclusive);
    expect(out.end).toMatchObject({ kind: 'no-verdict' });
    expect(out.end?.message).toBe('ended without a verdict: no conclusive data for 30m (errors: only 10 v2 requests in the last 1m (need 50))');
  });

  test('honours spec.inconclusiveTimeout', () => {
    const spec = analysisSpec([ERRORS], { inconclusiveTimeout: '2m' });
    const outs = play([inconclusiveAt(at(0), spec), inconclusiveAt(at(90), spec), inconclusiveAt(at(120), spec)], spec);
    expect(outs.map((o) => o.end?.reason)).toEqual([undefined, undefined, Reason.AnalysisInconclusive]);
  });

  test('Error sets errorSince once and emits one Warning MetricsUnavailable event on the change only', () => {
    const outs = play([errorAt(at(0)), errorAt(at(30))]);
    expect(outs.map((o) => o.analysis.errorSince)).toEqual([iso(0), iso(0)]);
    expect(outs[0]?.events).toEqual([{
      type: 'Warning', reason: Reason.MetricsUnavailable, message: 'Holding: metrics could not be read: errors: cannot reach Prometheus: ECONNREFUSED',
    }]);
    expect(outs[1]?.events).toEqual([]);
  });

  test('Error turns into a MetricsUnavailable failure after prometheusErrorTimeout (default 15m), not before', () => {
    const first = recordRound(PLAN, undefined, errorAt(at(0)), SUBSETS).analysis;
    expect(recordRound(PLAN, first, errorAt(at(15 * 60 - 1)), SUBSETS).end).toBeUndefined();
    const out = recordRound(PLAN, first, errorAt(at(15 * 60)), SUBSETS);
    expect(out.end).toEqual({ kind: 'no-verdict', reason: Reason.MetricsUnavailable, message: 'ended without a verdict: metrics unavailable for 15m (errors: cannot reach Prometheus: ECONNREFUSED)' });
  });

  test('honours spec.prometheusErrorTimeout', () => {
    const spec = analysisSpec([ERRORS], { prometheusErrorTimeout: '1m' });
    const outs = play([errorAt(at(0), spec), errorAt(at(30), spec), errorAt(at(60), spec)], spec);
    expect(outs.map((o) => o.end?.reason)).toEqual([undefined, undefined, Reason.MetricsUnavailable]);
  });

  test('a Fail after Inconclusive and Error rounds clears both since-timestamps', () => {
    const out = last(play([inconclusiveAt(at(0)), errorAt(at(30)), failAt(at(60))]));
    expect(out.analysis).not.toHaveProperty('inconclusiveSince');
    expect(out.analysis).not.toHaveProperty('errorSince');
  });

  test('an event on every verdict change but the first pass: Pass, Inconclusive, Error, Pass', () => {
    const outs = play([passAt(at(0)), inconclusiveAt(at(30)), errorAt(at(60)), passAt(at(90))]);
    expect(outs.map((o) => o.events.map((e) => e.reason))).toEqual([
      [], [Reason.AnalysisInconclusive], [Reason.MetricsUnavailable], [Reason.GatesPassed],
    ]);
    expect(outs[3]?.events[0]?.message).toBe('Gates pass for v2 again: error rate 0% within <= 1%');
  });

  test('does not modify the previous status', () => {
    const prev = recordRound(PLAN, undefined, failAt(at(0)), SUBSETS).analysis;
    const copy = structuredClone(prev);
    recordRound(PLAN, prev, passAt(at(30)), SUBSETS);
    expect(prev).toEqual(copy);
  });
});

describe('summarize', () => {
  const r = (name: string, verdict: GateVerdict): GateResult => ({ name, query: '', threshold: '', verdict, message: `${name} ${verdict}` });

  test('joins the messages of the gates with the given verdict', () => {
    expect(summarize([r('a', GateVerdict.Pass), r('b', GateVerdict.Fail), r('c', GateVerdict.Fail)], GateVerdict.Fail)).toBe('b Fail; c Fail');
  });
  test('falls back to every message when no gate has that verdict', () => {
    expect(summarize([r('a', GateVerdict.Pass), r('b', GateVerdict.Pass)], GateVerdict.Fail)).toBe('a Pass; b Pass');
  });
});

describe('holdMessage', () => {
  const held = (analysis?: AnalysisStatus) => progressing(1, 10, iso(-600), { measureFrom: iso(-600), ...(analysis ? { analysis } : {}) });
  test('before any round, saying when the first fresh one is due', () => {
    expect(holdMessage(held(), PLAN, NOW)).toBe(`waiting for the first analysis round with fresh data (its window must start after ${iso(-600)}; due at ${iso(30)})`);
  });
  test('after a pass from an earlier step', () => {
    expect(holdMessage(held(recordRound(PLAN, undefined, passAt(at(0)), SUBSETS).analysis), PLAN, at(5))).toBe(`waiting for a passing round measured entirely at this step (due at ${iso(30)})`);
  });
  test('after a failure names the check count and the gate message', () => {
    expect(holdMessage(held(recordRound(PLAN, undefined, failAt(at(0)), SUBSETS).analysis), PLAN, at(5))).toBe(`check 1/3 failed: ${FAIL_MSG}`);
  });
  test('while inconclusive says since when and when it gives up', () => {
    const a = recordRound(PLAN, undefined, inconclusiveAt(at(0)), SUBSETS).analysis;
    expect(holdMessage(held(a), PLAN, at(5))).toBe(`inconclusive since ${iso(0)}: errors: only 10 v2 requests in the last 1m (need 50); gives up at ${iso(1800)}`);
  });
  test('while metrics are unavailable says since when and when it gives up', () => {
    const a = recordRound(PLAN, undefined, errorAt(at(0)), SUBSETS).analysis;
    expect(holdMessage(held(a), PLAN, at(5))).toBe(`metrics unavailable since ${iso(0)}: errors: cannot reach Prometheus: ECONNREFUSED; gives up at ${iso(900)}`);
  });
});

describe('recordRound with a latency Error next to a failing errorRate gate', () => {
  test('counts the round as a Fail (Fail beats Error)', () => {
    const spec = analysisSpec([ERRORS, { name: 'p99', latency: { percentile: 99, maxMs: 500 } }]);
    const round = roundOf(spec, measured({ canary: { total: 100, errors: 20 }, latency: { p99: failed('timeout') } }), at(0));
    const out = recordRound(planOfAnalysis(spec), undefined, round, SUBSETS);
    expect(out.analysis.verdict).toBe(GateVerdict.Fail);
    expect(out.analysis.consecutiveFailures).toBe(1);
    expect(out.events[0]?.message).toBe(`Check 1/3 failed for v2: ${FAIL_MSG}`);
  });
});

describe('alternating thin data and outages', () => {
  test('an inconclusive round keeps the error clock running, so prometheusErrorTimeout still fires', () => {
    const spec = analysisSpec([ERRORS], { prometheusErrorTimeout: '2m', inconclusiveTimeout: '1h' });
    const outcomes = play([errorAt(at(0), spec), inconclusiveAt(at(60), spec), errorAt(at(120), spec)], spec);
    expect(outcomes[1]?.analysis.errorSince).toBe(iso(0));
    expect(last(outcomes).end?.reason).toBe(Reason.MetricsUnavailable);
  });

  test('an error round keeps the inconclusive clock running, so inconclusiveTimeout still fires', () => {
    const spec = analysisSpec([ERRORS], { inconclusiveTimeout: '2m', prometheusErrorTimeout: '1h' });
    const outcomes = play([inconclusiveAt(at(0), spec), errorAt(at(60), spec), inconclusiveAt(at(120), spec)], spec);
    expect(outcomes[1]?.analysis.inconclusiveSince).toBe(iso(0));
    expect(last(outcomes).end?.reason).toBe(Reason.AnalysisInconclusive);
  });
});

describe('rounds spread over the interval (roundOffsetMs)', () => {
  test('the offset is one of the interval\'s slots (at most 120, at least 250 ms apart), the same for a key every time, and 0 without a key or for an interval under 500 ms', () => {
    for (const interval of [500, 2_000, 10_000, 30_000, 45_000, 3_600_000]) {
      const slots = Math.min(120, Math.floor(interval / 250));
      const seen = new Set<number>();
      for (let i = 0; i < 2000; i++) {
        const off = roundOffsetMs(interval, `uid-${i}`);
        expect(off).toBeGreaterThanOrEqual(0);
        expect(off).toBeLessThan(interval);
        expect(off % Math.floor(interval / slots)).toBe(0);
        expect(roundOffsetMs(interval, `uid-${i}`)).toBe(off);
        seen.add(off);
      }
      // 2,000 keys land in every slot: the releases of a boundary are spread, not bunched.
      expect(seen.size).toBe(slots);
    }
    expect(roundOffsetMs(30_000, undefined)).toBe(0);
    expect(roundOffsetMs(499, 'uid-1')).toBe(0);
  });

  test('a release\'s rounds fall on multiples of the interval plus its offset, and count the same way', () => {
    const plan = { ...PLAN, roundOffsetMs: 7_000 };
    const st = progressing(1, 10, iso(-100), { measureFrom: iso(-100) });
    // PLAN's interval is 30s: rounds at ..., -53, -23, 7, 37, ...
    expect(roundDue(plan, st, at(10))?.toISOString()).toBe(iso(7));
    expect(roundDue(plan, st, at(6))?.toISOString()).toBe(iso(-23));
    expect(untilNextRound(plan, st, at(10))).toBe(27_000);
    expect(firstRoundForStep(plan, st, 60_000, at(-100))).toBe(at(-23).getTime());
  });
});
