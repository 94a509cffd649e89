import { describe, expect, test } from '@jest/globals';
import type { AnalysisSpec, Gate } from '../../../src/api/analysis-spec.js';
import { GateVerdict } from '../../../src/api/analysis-status.js';
import { ConditionType, Phase, Reason } from '../../../src/api/conditions.js';
import { REQUEST_ANNOTATIONS } from '../../../src/api/names.js';
import type { CanaryReleaseStatus, Condition } from '../../../src/api/status.js';
import { errorRateQuery, latencyGateQuery } from '../../../src/analysis/release-queries.js';
import { decide, type Decision, type Observations, type ReleaseSnapshot } from '../../../src/core/decide.js';
import type { AnalysisRound } from '../../../src/core/analysis-rules.js';
import { AVAILABLE, NOW, NS, at, baseSpec, iso, obs, pending, planOf, progressing, snap, trafficAt } from '../release-fixtures.js';
import { analysisSpec, measured, ok, roundOf } from './analysis-fixtures.js';

const ERRORS: Gate = { name: 'errors', errorRate: { max: '1%' } };
const cond = (d: Decision, type: string): Condition | undefined => d.status.conditions?.find((c) => c.type === type);
const reasons = (d: Decision) => d.events.map((e) => e.reason);
const after = (s: ReleaseSnapshot, d: Decision, extra: Partial<ReleaseSnapshot> = {}): ReleaseSnapshot => ({ ...s, status: d.status, ...extra });
const RESUME = REQUEST_ANNOTATIONS.resume;
const PROMOTE = REQUEST_ANNOTATIONS.promote;
const ABORT = REQUEST_ANNOTATIONS.abort;

const A = (extra: Partial<AnalysisSpec> = {}, gates: Gate[] = [ERRORS]) => analysisSpec(gates, extra);
const withAnalysis = (analysis: AnalysisSpec = A(), more: Record<string, unknown> = {}) => ({ ...baseSpec(), ...more, analysis });

const V2 = { namespace: NS, service: 'reviews', version: 'v2' };
const FAIL_MSG = 'error rate 20% > 1% (20 of 100 v2 requests in 1m)';
const queries = { errors: errorRateQuery(V2, '1m') };

const passAt = (when: Date, a: AnalysisSpec = A()) => roundOf(a, measured({ canary: { total: 100, errors: 0 }, queries }), when);
const failAt = (when: Date, a: AnalysisSpec = A()) => roundOf(a, measured({ canary: { total: 100, errors: 20 }, queries }), when);
const inconclusiveAt = (when: Date, a: AnalysisSpec = A()) => roundOf(a, measured({ canary: { total: 10, errors: 0 }, queries }), when);
const errorAt = (when: Date, a: AnalysisSpec = A()) => roundOf(a, measured({ requestsError: 'cannot reach Prometheus at http://prometheus.istio-system:9090: ECONNREFUSED', queries }), when);

/** Traffic at `weight` with an analysis round. */
const withRound = (weight: number, round: AnalysisRound | undefined): Observations => ({ ...obs(weight), analysis: round });

/** Step 1 (10% for 1m) started 90s ago: its duration has elapsed. */
const STEP1_DONE = (extra: Partial<CanaryReleaseStatus> = {}) => progressing(1, 10, iso(-90), extra);

describe('advancing with analysis', () => {
  test('advances when the step elapsed and a round in this call passed', () => {
    const d = decide(snap({ spec: withAnalysis(), status: STEP1_DONE() }), withRound(10, passAt(NOW)), NOW);
    expect(d.setCanaryPercent).toBe(50);
    expect(d.status).toMatchObject({ phase: Phase.Progressing, currentStep: 2, canaryWeight: 50, stepStartedAt: NOW.toISOString() });
    // A first pass is no news of its own: the step it lets advance says so.
    expect(reasons(d)).toEqual([Reason.StepAdvanced]);
    expect(d.events[0]?.message).toContain('after gates passed: error rate');
  });

  test('advances on a stored passing round whose whole window lies after the step began', () => {
    // Step started 120s ago; the round at -30s measured [-90s, -30s]: all of it at 10%.
    const stored = decide(snap({ spec: withAnalysis(), status: progressing(1, 10, iso(-120)) }), withRound(10, passAt(at(-30))), at(-30));
    const d = decide(snap({ spec: withAnalysis(), status: stored.status }), obs(10), NOW);
    expect(d.setCanaryPercent).toBe(50);
  });

  test('holds on a passing round taken after the step began whose window reaches back before it (no evidence at this weight)', () => {
    // Step started 60s ago (1m, elapsed); the round at -30s measured [-90s, -30s], partly at the previous weight.
    const stored = decide(snap({ spec: withAnalysis(), status: progressing(1, 10, iso(-60)) }), withRound(10, passAt(at(-30))), at(-30));
    expect(stored.status.analysis).toMatchObject({ verdict: GateVerdict.Pass, measuredFrom: iso(-90) });
    const d = decide(snap({ spec: withAnalysis(), status: stored.status }), obs(10), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    // The round due now (at 0) is the first that can end the step, as the step's message said from its start:
    // the status stays as it was written then.
    expect(cond(d, ConditionType.Progressing)).toMatchObject({ reason: Reason.StepInProgress });
    expect(d.status.message).toBe(`Step 1/3: 10% of traffic to v2 for 1m; next step on the first passing analysis round from ${iso(0)}`);
    expect(d.status.message).toBe(stored.status.message);
  });

  test('the round recorded in the reconcile that advances a step is not evidence for the next step', () => {
    const s1 = snap({ spec: withAnalysis(), status: STEP1_DONE() });
    const advanced = decide(s1, withRound(10, passAt(NOW)), NOW);
    expect(advanced.status.currentStep).toBe(2);
    // Step 2 is 2m; long after it, with no round measured at 50%, it still holds.
    const d = decide(after(s1, advanced), obs(50), at(600));
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.status.phase).toBe(Phase.Progressing);
    expect(cond(d, ConditionType.Progressing)).toMatchObject({ reason: Reason.WaitingForAnalysis });
  });

  test('holds when the step elapsed but the last pass is from before the step began, and requeues at the next round', () => {
    const status = STEP1_DONE({ analysis: { evaluatedAt: iso(-120), measuredFrom: iso(-180), verdict: GateVerdict.Pass, consecutiveFailures: 0, gates: [] } });
    const d = decide(snap({ spec: withAnalysis(), status }), obs(10), at(10));
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.status.currentStep).toBe(1);
    expect(d.status.message).toBe(`Step 1/3 held at 10% on v2: waiting for a passing round measured entirely at this step (due at ${iso(30)})`);
    expect(cond(d, ConditionType.Progressing)).toMatchObject({ status: 'True', reason: Reason.WaitingForAnalysis });
    expect(d.requeueAfterMs).toBe(20_000);
    expect(d.events).toEqual([]);
  });

  test('a look that wakes a millisecond before the round it waits for looks again at once, not a second late', () => {
    // Node's timers run on the loop's cached clock: a wake-up aimed at a round's time can come just before it.
    const status = STEP1_DONE({ analysis: { evaluatedAt: iso(-120), measuredFrom: iso(-180), verdict: GateVerdict.Pass, consecutiveFailures: 0, gates: [] } });
    const d = decide(snap({ spec: withAnalysis(), status }), obs(10), new Date(at(30).getTime() - 1));
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.status.message).toBe(`Step 1/3 held at 10% on v2: waiting for a passing round measured entirely at this step (due at ${iso(30)})`);
    expect(d.requeueAfterMs).toBe(100);
  });

  test('holds when no round has been evaluated yet, saying so', () => {
    const d = decide(snap({ spec: withAnalysis(), status: STEP1_DONE() }), obs(10), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.status.message).toContain('Step 1/3 held at 10% on v2: waiting for the first analysis round with fresh data');
    expect(d.requeueAfterMs).toBe(30_000);
  });

  test('a step with duration 0s still needs a passing round measured at its weight', () => {
    const spec = withAnalysis(A(), { steps: [{ weight: 10, duration: '0s' }, { weight: 100 }] });
    const d = decide(snap({ spec, status: { ...progressing(1, 10, iso(-5)), totalSteps: 2 } }), obs(10), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.status.phase).toBe(Phase.Progressing);
  });

  test('a plan whose only step is 100 is judged at 100% before it is Succeeded', () => {
    const spec = withAnalysis(A(), { steps: [{ weight: 100 }] });
    const s = snap({ spec, status: { ...pending(), totalSteps: 1 } });
    const moved = decide(s, { ...obs(undefined), preflight: { ok: true } }, NOW);
    expect(moved.setCanaryPercent).toBe(100);
    expect(moved.status).toMatchObject({ phase: Phase.Progressing, currentStep: 1, canaryWeight: 100 });
    const failing = decide(after(s, moved), withRound(100, failAt(at(120))), at(120));
    expect(failing.status.phase).toBe(Phase.Progressing);
    const passing = decide(after(s, moved), withRound(100, passAt(at(120))), at(120));
    expect(passing.status.phase).toBe(Phase.Succeeded);
  });

  test('a passing round does not shorten the step: it holds until the duration elapsed, requeueing by the next round', () => {
    const d = decide(snap({ spec: withAnalysis(), status: progressing(1, 10, iso(-10)) }), withRound(10, passAt(NOW)), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.status.currentStep).toBe(1);
    expect(d.requeueAfterMs).toBe(30_000);
  });

  test('requeues at the step end when that comes before the next round', () => {
    const d = decide(snap({ spec: withAnalysis(), status: progressing(1, 10, iso(-50)) }), obs(10), NOW);
    expect(d.requeueAfterMs).toBe(10_000);
  });

  test('an Inconclusive round holds the step with a message naming the count and the need', () => {
    const d = decide(snap({ spec: withAnalysis(), status: STEP1_DONE() }), withRound(10, inconclusiveAt(NOW)), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.status.currentStep).toBe(1);
    expect(d.status.message).toBe(
      `Step 1/3 held at 10% on v2: inconclusive since ${iso(0)}: errors: only 10 v2 requests in the last 1m (need 50); gives up at ${iso(1800)}`);
    expect(d.status.analysis).toMatchObject({ verdict: GateVerdict.Inconclusive, inconclusiveSince: iso(0), consecutiveFailures: 0 });
  });

  test('an Error round holds the step with a message naming the Prometheus problem', () => {
    const d = decide(snap({ spec: withAnalysis(), status: STEP1_DONE() }), withRound(10, errorAt(NOW)), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.status.currentStep).toBe(1);
    expect(d.status.message).toContain('metrics unavailable since');
    expect(d.status.message).toContain('ECONNREFUSED');
    expect(reasons(d)).toEqual([Reason.MetricsUnavailable]);
  });

  test.each([
    ['Inconclusive', inconclusiveAt],
    ['Error', errorAt],
  ])('an %s round at the last step never promotes', (_, round) => {
    const d = decide(snap({ spec: withAnalysis(), status: progressing(2, 50, iso(-600)) }), withRound(50, round(NOW)), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.status.phase).toBe(Phase.Progressing);
    expect(cond(d, ConditionType.Promoted)).toMatchObject({ status: 'False' });
  });

  test('a passing round at the last step promotes', () => {
    const d = decide(snap({ spec: withAnalysis(), status: progressing(2, 50, iso(-600)) }), withRound(50, passAt(NOW)), NOW);
    expect(d.setCanaryPercent).toBe(100);
    expect(d.status.phase).toBe(Phase.Succeeded);
  });

  test('a round is not recorded for a release that is not Progressing with traffic', () => {
    const d = decide(snap({ spec: withAnalysis(), status: pending() }), withRound(0, failAt(NOW)), NOW);
    expect(d.status.analysis).toBeUndefined();
    expect(reasons(d)).not.toContain(Reason.GateFailed);
  });
});

describe('failing rounds', () => {
  test('a failing round below the limit holds with a message saying why, and one GateFailed Warning', () => {
    const d = decide(snap({ spec: withAnalysis(), status: STEP1_DONE() }), withRound(10, failAt(NOW)), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.status.phase).toBe(Phase.Progressing);
    expect(d.status.message).toBe(`Step 1/3 held at 10% on v2: check 1/3 failed: ${FAIL_MSG}`);
    expect(d.events).toEqual([{ type: 'Warning', reason: Reason.GateFailed, message: `Check 1/3 failed for v2: ${FAIL_MSG}` }]);
  });

  test('failureLimit consecutive fails roll back by default: RolledBack, traffic to 0, Warning with the gate message', () => {
    const s0 = snap({ spec: withAnalysis(), status: STEP1_DONE() });
    const d1 = decide(s0, withRound(10, failAt(at(0))), at(0));
    const d2 = decide(after(s0, d1), withRound(10, failAt(at(30))), at(30));
    const d3 = decide(after(s0, d2), withRound(10, failAt(at(60))), at(60));
    expect([d1, d2].map((d) => d.status.phase)).toEqual([Phase.Progressing, Phase.Progressing]);
    expect(d3.status.phase).toBe(Phase.RolledBack);
    expect(d3.setCanaryPercent).toBe(0);
    expect(d3.status.canaryWeight).toBe(0);
    const rolled = d3.events.find((e) => e.reason === Reason.AnalysisFailed);
    // A GateFailed for checks 1 and 2; the check that ends the release is told by AnalysisFailed alone.
    expect([d1, d2, d3].map(reasons)).toEqual([[Reason.GateFailed], [Reason.GateFailed], [Reason.AnalysisFailed]]);
    expect(rolled?.type).toBe('Warning');
    expect(rolled?.message).toBe(`${FAIL_MSG} on 3 consecutive checks: rolled back to v1`);
    expect(rolled?.message).toContain('error rate 20% > 1%');
    expect(cond(d3, ConditionType.Progressing)).toMatchObject({ status: 'False', reason: Reason.AnalysisFailed });
    expect(cond(d3, ConditionType.Healthy)).toMatchObject({ status: 'False', reason: Reason.GateFailed });
  });

  test('a failure during a step that has not elapsed yet still rolls back', () => {
    const a = A({ failureLimit: 1 });
    const d = decide(snap({ spec: withAnalysis(a), status: progressing(1, 10, iso(-5)) }), withRound(10, failAt(NOW, a)), NOW);
    expect(d.status.phase).toBe(Phase.RolledBack);
    expect(d.setCanaryPercent).toBe(0);
  });

  test('Inconclusive beyond inconclusiveTimeout takes onInconclusive (default rollback) with reason AnalysisInconclusive, saying there was no verdict', () => {
    const a = A({ inconclusiveTimeout: '1m' });
    const status = STEP1_DONE({ analysis: { evaluatedAt: iso(-60), verdict: GateVerdict.Inconclusive, consecutiveFailures: 0, inconclusiveSince: iso(-60), gates: [] } });
    const d = decide(snap({ spec: withAnalysis(a), status }), withRound(10, inconclusiveAt(NOW, a)), NOW);
    expect(d.status.phase).toBe(Phase.RolledBack);
    expect(d.setCanaryPercent).toBe(0);
    expect(d.events.at(-1)).toMatchObject({ type: 'Warning', reason: Reason.AnalysisInconclusive });
    expect(d.events.at(-1)?.message).toContain('no conclusive data for 1m');
    expect(d.events.at(-1)?.message).toContain('without a verdict');
    expect(cond(d, ConditionType.Progressing)).toMatchObject({ reason: Reason.AnalysisInconclusive });
  });

  test('Error beyond prometheusErrorTimeout with onInconclusive pause pauses the release', () => {
    const a = A({ prometheusErrorTimeout: '1m', onInconclusive: 'pause' });
    const status = STEP1_DONE({ analysis: { evaluatedAt: iso(-60), verdict: GateVerdict.Error, consecutiveFailures: 0, errorSince: iso(-60), gates: [] } });
    const d = decide(snap({ spec: withAnalysis(a), status }), withRound(10, errorAt(NOW, a)), NOW);
    expect(d.status).toMatchObject({ phase: Phase.Paused, pausedBy: 'analysis' });
    expect(cond(d, ConditionType.Progressing)).toMatchObject({ reason: Reason.MetricsUnavailable });
    expect(d.setCanaryPercent).toBeUndefined();
  });

  test('onFailure does not decide what happens without a verdict, and onInconclusive does not decide a failure', () => {
    const a = A({ inconclusiveTimeout: '1m', onFailure: 'pause' });
    const status = STEP1_DONE({ analysis: { evaluatedAt: iso(-60), verdict: GateVerdict.Inconclusive, consecutiveFailures: 0, inconclusiveSince: iso(-60), gates: [] } });
    expect(decide(snap({ spec: withAnalysis(a), status }), withRound(10, inconclusiveAt(NOW, a)), NOW).status.phase).toBe(Phase.RolledBack);
    const b = A({ failureLimit: 1, onInconclusive: 'pause' });
    expect(decide(snap({ spec: withAnalysis(b), status: STEP1_DONE() }), withRound(10, failAt(NOW, b)), NOW).status.phase).toBe(Phase.RolledBack);
  });
});

describe('onFailure: pause', () => {
  const a = A({ onFailure: 'pause', failureLimit: 1 });
  const spec = withAnalysis(a);
  const pausedSnap = () => {
    const s = snap({ spec, status: STEP1_DONE() });
    return after(s, decide(s, withRound(10, failAt(NOW, a)), NOW));
  };

  test('pauses with pausedBy analysis, keeps the weights and warns with the gate message', () => {
    const d = decide(snap({ spec, status: STEP1_DONE() }), withRound(10, failAt(NOW, a)), NOW);
    expect(d.status).toMatchObject({ phase: Phase.Paused, pausedBy: 'analysis', pausedAt: NOW.toISOString(), canaryWeight: 10, currentStep: 1 });
    expect(d.setCanaryPercent).toBeUndefined();
    const warn = d.events.find((e) => e.reason === Reason.AnalysisFailed);
    expect(warn).toMatchObject({ type: 'Warning', message: `${FAIL_MSG} on 1 consecutive checks: paused at 10% on v2` });
    expect(d.status.message).toContain('kubectl canary resume reviews -n bookinfo');
    expect(d.status.message).toContain('kubectl canary abort reviews -n bookinfo');
    expect(cond(d, ConditionType.Progressing)).toMatchObject({ status: 'False', reason: Reason.AnalysisFailed });
  });

  test('stays paused with spec.paused false: no resume, no traffic, no events, long after', () => {
    const s = pausedSnap();
    const d = decide(s, obs(10), at(3600));
    expect(d.status.phase).toBe(Phase.Paused);
    expect(d.status.pausedBy).toBe('analysis');
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.events).toEqual([]);
  });

  test('toggling spec.paused on and off does not resume it', () => {
    const s = pausedSnap();
    const on = decide({ ...s, plan: snap({ spec: { ...spec, paused: true } }).plan }, obs(10), at(60));
    const off = decide({ ...s, status: on.status }, obs(10), at(120));
    expect(on.status).toMatchObject({ phase: Phase.Paused, pausedBy: 'analysis' });
    expect(off.status).toMatchObject({ phase: Phase.Paused, pausedBy: 'analysis' });
    expect(off.setCanaryPercent).toBeUndefined();
  });

  test('still undoes drift on its route while analysis-paused', () => {
    const d = decide(pausedSnap(), { ...obs(40), route: trafficAt(40, 'v1', 'v2', 8) }, at(60));
    expect(d.setCanaryPercent).toBe(10);
    expect(reasons(d)).toEqual([Reason.TrafficDrift]);
  });

  test('the resume annotation resumes it, starts the evidence afresh and records the request', () => {
    const s = pausedSnap();
    const d = decide({ ...s, annotations: { [RESUME]: 'r1' } }, obs(10), at(100));
    expect(d.status.phase).toBe(Phase.Progressing);
    expect(d.status.pausedBy).toBeUndefined();
    expect(d.status.pausedAt).toBeUndefined();
    expect(d.status.analysis).toBeUndefined(); // the evidence starts afresh
    expect(d.status.handledRequests).toEqual({ resume: 'r1' });
    expect(d.status.stepStartedAt).toBe(iso(-90 + 100));
    expect(d.events[0]).toMatchObject({ type: 'Normal', reason: Reason.Resumed });
    expect(d.setCanaryPercent).toBeUndefined();
  });

  test('after a resume the next failing round counts from 1 again', () => {
    const lenient = A({ onFailure: 'pause', failureLimit: 2 });
    const spec2 = withAnalysis(lenient);
    let s = snap({ spec: spec2, status: STEP1_DONE() });
    s = after(s, decide(s, withRound(10, failAt(at(0), lenient)), at(0)));
    s = after(s, decide(s, withRound(10, failAt(at(30), lenient)), at(30)));
    expect(s.status).toMatchObject({ phase: Phase.Paused, pausedBy: 'analysis' });
    s = after(s, decide({ ...s, annotations: { [RESUME]: 'r1' } }, obs(10), at(45)), { annotations: { [RESUME]: 'r1' } });
    // A round whose window reaches back before the resume is not fresh data: it does not count.
    const stale = decide(s, withRound(10, failAt(at(60), lenient)), at(60));
    expect(stale.status.analysis).toBeUndefined();
    expect(stale.events).toEqual([]);
    const d = decide(s, withRound(10, failAt(at(120), lenient)), at(120));
    expect(d.status.phase).toBe(Phase.Progressing);
    expect(d.status.analysis?.consecutiveFailures).toBe(1);
    expect(d.events.map((e) => e.message)).toEqual([`Check 1/2 failed for v2: ${FAIL_MSG}`]);
  });

  test('one measurement is one check: the same round handed over twice counts once', () => {
    const lenient = A({ failureLimit: 3 });
    let s = snap({ spec: withAnalysis(lenient), status: STEP1_DONE() });
    const round = failAt(at(0), lenient);
    s = after(s, decide(s, withRound(10, round), at(0)));
    const again = decide(s, withRound(10, round), at(2));
    expect(again.status.analysis?.consecutiveFailures).toBe(1);
    expect(again.events).toEqual([]);
  });

  test('a resumed release still needs a passing round before it advances', () => {
    const s = pausedSnap();
    const d = decide({ ...s, annotations: { [RESUME]: 'r1' } }, obs(10), at(600));
    expect(d.status.currentStep).toBe(1);
    expect(d.setCanaryPercent).toBeUndefined();
    // The resume starts the evidence afresh: the first round that can count is named.
    expect(d.status.message).toBe(`Step 1/3: 10% of traffic to v2 for 1m; next step on the first passing analysis round from ${iso(660)}`);
  });

  test('promote still works while analysis-paused', () => {
    const d = decide({ ...pausedSnap(), annotations: { [PROMOTE]: 'p1' } }, obs(10), at(60));
    expect(d.status).toMatchObject({ phase: Phase.Succeeded, canaryWeight: 100, handledRequests: { promote: 'p1' } });
    expect(d.setCanaryPercent).toBe(100);
  });

  test('abort still works while analysis-paused', () => {
    const d = decide({ ...pausedSnap(), annotations: { [ABORT]: 'a1' } }, obs(10), at(60));
    expect(d.status).toMatchObject({ phase: Phase.RolledBack, canaryWeight: 0, handledRequests: { abort: 'a1' } });
    expect(d.status.pausedAt).toBeUndefined();
    expect(d.setCanaryPercent).toBe(0);
  });

  test('resume on a release paused by spec.paused is ignored with a RequestIgnored event', () => {
    const s = snap({ spec: { ...spec, paused: true }, status: STEP1_DONE({ phase: Phase.Paused, pausedBy: 'spec', pausedAt: iso(-10) }), annotations: { [RESUME]: 'r1' } });
    const d = decide(s, obs(10), NOW);
    expect(d.status).toMatchObject({ phase: Phase.Paused, pausedBy: 'spec', handledRequests: { resume: 'r1' } });
    expect(reasons(d)).toEqual([Reason.RequestIgnored]);
  });
});

describe('the Healthy condition and status.analysis', () => {
  test.each([
    ['Pass', passAt, 'True', Reason.GatesPassed],
    ['Fail', failAt, 'False', Reason.GateFailed],
    ['Inconclusive', inconclusiveAt, 'Unknown', Reason.AnalysisInconclusive],
    ['Error', errorAt, 'Unknown', Reason.MetricsUnavailable],
  ] as const)('a %s round sets Healthy %s', (_, round, status, reason) => {
    const d = decide(snap({ spec: withAnalysis(), status: STEP1_DONE() }), withRound(10, round(NOW)), NOW);
    expect(cond(d, ConditionType.Healthy)).toMatchObject({ status, reason });
  });

  test('Healthy carries the gate message', () => {
    const d = decide(snap({ spec: withAnalysis(), status: STEP1_DONE() }), withRound(10, failAt(NOW)), NOW);
    expect(cond(d, ConditionType.Healthy)?.message).toBe(FAIL_MSG);
  });

  test("status.analysis holds every gate's query, value, threshold, verdict and message", () => {
    const gates: Gate[] = [ERRORS, { name: 'p99', latency: { percentile: 99, maxMs: 500 } }];
    const a = A({}, gates);
    const m = measured({
      canary: { total: 200, errors: 1 },
      latency: { p99: ok({ canary: 620, stable: 90 }) },
      queries: { errors: errorRateQuery(V2, '1m'), p99: latencyGateQuery(V2, 99, '1m') },
    });
    const d = decide(snap({ spec: withAnalysis(a), status: STEP1_DONE() }), withRound(10, roundOf(a, m, NOW)), NOW);
    expect(d.status.analysis).toEqual({
      evaluatedAt: NOW.toISOString(),
      measuredFrom: iso(-60),
      verdict: GateVerdict.Fail,
      consecutiveFailures: 1,
      gates: [
        { name: 'errors', query: errorRateQuery(V2, '1m'), value: 0.5, stableValue: 0, threshold: '<= 1%', verdict: GateVerdict.Pass, message: 'error rate 0.5% within <= 1%' },
        { name: 'p99', query: latencyGateQuery(V2, 99, '1m'), value: 620, stableValue: 90, threshold: '<= 500ms', verdict: GateVerdict.Fail, message: 'p99 latency 620ms > 500ms' },
      ],
    });
  });

  test('a round with the same verdict as the stored one emits no event (Pass, Pass; a first pass is no news either)', () => {
    const s = snap({ spec: withAnalysis(), status: progressing(1, 10, iso(-10)) });
    const d1 = decide(s, withRound(10, passAt(at(0))), at(0));
    const d2 = decide(after(s, d1), withRound(10, passAt(at(30))), at(30));
    expect(d1.events).toEqual([]);
    expect(cond(d1, ConditionType.Healthy)).toMatchObject({ status: 'True' });
    expect(d2.events).toEqual([]);
  });

  test('gates that recover emit GatesPassed (Fail, then Pass)', () => {
    const lenient = A({ failureLimit: 3 });
    const s = snap({ spec: withAnalysis(lenient), status: progressing(1, 10, iso(-10)) });
    const d1 = decide(s, withRound(10, failAt(at(0), lenient)), at(0));
    const d2 = decide(after(s, d1), withRound(10, passAt(at(30), lenient)), at(30));
    expect(reasons(d1)).toEqual([Reason.GateFailed]);
    expect(reasons(d2)).toEqual([Reason.GatesPassed]);
    expect(d2.events[0]?.message).toContain('again');
  });
});

describe('request annotations on an object seen for the first time', () => {
  const ALL = { [PROMOTE]: 'p0', [ABORT]: 'a0', [RESUME]: 'r0', [REQUEST_ANNOTATIONS.retry]: 't0' };

  test('are recorded as handled and not acted on', () => {
    const d = decide(snap({ spec: withAnalysis(), annotations: ALL }), obs(undefined), NOW);
    expect(d.status).toMatchObject({ phase: Phase.Pending, currentStep: 0, canaryWeight: 0 });
    expect(d.status.handledRequests).toEqual({ promote: 'p0', abort: 'a0', resume: 'r0', retry: 't0' });
    expect(d.setCanaryPercent).toBeUndefined();
    expect(reasons(d)).toEqual([Reason.Started]);
  });

  test('stay unacted on the next call: the release starts its first step instead of promoting', () => {
    const s = snap({ spec: withAnalysis(), annotations: ALL });
    const ready = obs(undefined, AVAILABLE, { preflight: { ok: true } });
    const d2 = decide(after(s, decide(s, obs(undefined), NOW)), ready, at(1));
    expect(d2.status).toMatchObject({ phase: Phase.Progressing, currentStep: 1, canaryWeight: 10 });
    expect(reasons(d2)).toEqual([Reason.StepAdvanced]);
  });

  test('are not acted on once an initially invalid spec (analysis without a Prometheus address) is fixed', () => {
    const broken = { ...baseSpec(), analysis: { gates: [ERRORS] } };
    const s0 = snap({ spec: broken, annotations: { [PROMOTE]: 'p0' } });
    const noDefault = { ...s0, plan: planOf(broken) };
    expect(noDefault.plan.ok).toBe(false);
    const d1 = decide(noDefault, obs(undefined), NOW);
    const fixed = snap({ spec: withAnalysis() }).plan;
    const ready = obs(undefined, AVAILABLE, { preflight: { ok: true } });
    const d2 = decide(after(noDefault, d1, { plan: fixed }), ready, at(1));
    const d3 = decide(after(noDefault, d2, { plan: fixed }), ready, at(2));
    expect(d3.status.phase).not.toBe(Phase.Succeeded);
    expect(d3.setCanaryPercent).not.toBe(100);
    expect(d3.status.handledRequests).toEqual({ promote: 'p0' });
  });

  test('a new value set after the first sighting is acted on', () => {
    const s = snap({ spec: withAnalysis(), annotations: { [PROMOTE]: 'p0' } });
    const started = after(s, decide(s, obs(undefined), NOW));
    const d = decide({ ...started, annotations: { [PROMOTE]: 'p1' } }, obs(undefined), at(1));
    expect(d.status).toMatchObject({ phase: Phase.Succeeded, handledRequests: { promote: 'p1' } });
  });
});

describe('a new release after a judged one', () => {
  test('drops the previous release health and analysis', () => {
    let s = snap({ spec: withAnalysis(), status: STEP1_DONE() });
    s = after(s, decide(s, withRound(10, failAt(NOW)), NOW));
    expect(s.status.conditions?.some((c) => c.type === ConditionType.Healthy)).toBe(true);
    const next = decide({ ...s, plan: snap({ spec: withAnalysis(A(), { stable: { subset: 'v2' }, canary: { subset: 'v3' } }) }).plan }, obs(10), at(5));
    expect(next.status.phase).toBe(Phase.Pending);
    expect(next.status.analysis).toBeUndefined();
    expect(cond(next, ConditionType.Healthy)).toBeUndefined();
  });
});

describe('a round stamped in the future (a leader whose clock ran fast)', () => {
  const spec = { ...baseSpec(), analysis: { prometheus: { address: 'http://prom:9090' }, interval: '30s', window: '60s', gates: [{ name: 'errors', errorRate: { max: '1%' } }] } };
  const fastLeaderStatus = (steps = spec) => ({
    spec: steps,
    // Step 2 (50%) began at +1h on the fast clock; its last Pass round measured [+59m, +1h], i.e. at 10%.
    status: progressing(2, 50, iso(3600), {
      measureFrom: iso(-600),
      analysis: { evaluatedAt: iso(3600), measuredFrom: iso(3540), verdict: GateVerdict.Pass, consecutiveFailures: 0, gates: [] },
    }),
  });

  test('is no evidence for the current step: the 2m step at 50% does not end without a round at 50%', () => {
    const { spec: s, status } = fastLeaderStatus();
    const d1 = decide(snap({ spec: s, status }), obs(50), at(0));
    expect(d1.setCanaryPercent).toBeUndefined();
    const d2 = decide(snap({ spec: s, status: d1.status }), obs(50), at(120));
    expect({ phase: d2.status.phase, weight: d2.status.canaryWeight, set: d2.setCanaryPercent }).toEqual({ phase: 'Progressing', weight: 50, set: undefined });
  });

  test("nor with a 30s step: the new leader's first looks do not promote", () => {
    const short = { ...spec, steps: [{ weight: 10, duration: '1m' }, { weight: 50, duration: '30s' }, { weight: 100 }] };
    const { status } = fastLeaderStatus(short);
    const d1 = decide(snap({ spec: short, status }), obs(50), at(0));
    const d2 = decide(snap({ spec: short, status: d1.status }), obs(50), at(30));
    expect({ phase: d2.status.phase, weight: d2.status.canaryWeight }).toEqual({ phase: 'Progressing', weight: 50 });
  });
});

test('an hour paused by spec does not count toward inconclusiveTimeout: the first thin round after the resume holds', () => {
  const spec = { ...baseSpec(), analysis: { prometheus: { address: 'http://prom:9090' }, interval: '30s', window: '60s', inconclusiveTimeout: '30m', gates: [{ name: 'errors', errorRate: { max: '1%' } }] } };
  const paused = progressing(1, 10, iso(-3700), {
    phase: Phase.Paused, pausedBy: 'spec', pausedAt: iso(-3600), heldSince: iso(-3600),
    analysis: { evaluatedAt: iso(-3600), measuredFrom: iso(-3660), verdict: GateVerdict.Inconclusive, inconclusiveSince: iso(-3630), consecutiveFailures: 0, gates: [] },
  });
  const d1 = decide(snap({ spec, status: paused }), obs(10), at(0));
  expect(d1.status.phase).toBe(Phase.Progressing);
  const round: AnalysisRound = { evaluatedAt: at(60), measuredFrom: at(0), verdict: GateVerdict.Inconclusive,
    results: [{ name: 'errors', query: 'q', threshold: '<= 1%', verdict: GateVerdict.Inconclusive, message: 'only 12 v2 requests' }] };
  const d2 = decide(snap({ spec, status: d1.status }), { ...obs(10), analysis: round }, at(61));
  expect(d2.status.phase).toBe(Phase.Progressing);
  expect(d2.setCanaryPercent).toBeUndefined();
});

// A burst of new releases waits for one test query to Prometheus. Writing "Pending" (and its Started Event)
// for each while it waits is two requests per release that the first step, a moment later, replaces.
describe('a new release whose preflight is not answered yet', () => {
  const fresh = (createdAtMs: number | undefined, status: CanaryReleaseStatus = {}) =>
    snap({ spec: withAnalysis(), status, hasFinalizer: false, ...(createdAtMs === undefined ? {} : { createdAtMs }) });

  test('writes nothing but its finalizer within 2 s of its creation, and looks again when that time is up', () => {
    const s = fresh(NOW.getTime() - 500);
    const d = decide(s, obs(undefined), NOW);
    expect(d.status).toBe(s.status);
    expect(d.events).toEqual([]);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.finalizer).toBe('add');
    expect(d.requeueAfterMs).toBe(1500);
    // The answer comes: the first step is its first status write, with one Event for the start and the step.
    const moved = decide({ ...s, hasFinalizer: true }, obs(undefined, AVAILABLE, { preflight: { ok: true } }), at(1));
    expect(moved.status).toMatchObject({ phase: Phase.Progressing, currentStep: 1, canaryWeight: 10 });
    expect(moved.setCanaryPercent).toBe(10);
    expect(reasons(moved)).toEqual([Reason.Started]);
  });

  test('says it is Pending once 2 s have passed without an answer (the wait is bounded by the creation time)', () => {
    const d = decide(fresh(NOW.getTime() - 2000), obs(undefined), NOW);
    expect(d.status).toMatchObject({ phase: Phase.Pending, currentStep: 0, canaryWeight: 0 });
    expect(d.status.message).toContain('checking that Prometheus answers');
    expect(reasons(d)).toEqual([Reason.Started]);
  });

  test.each([
    ['no creation time', undefined],
    ['a creation time ahead of the operator\'s clock (its clock set back)', NOW.getTime() + 60_000],
  ])('says it is Pending at once with %s', (_, createdAtMs) => {
    const d = decide(fresh(createdAtMs), obs(undefined), NOW);
    expect(d.status.phase).toBe(Phase.Pending);
    expect(reasons(d)).toEqual([Reason.Started]);
  });

  test('a release whose status was written before (a retry, an operator restart) is not held back', () => {
    const s = fresh(NOW.getTime() - 500);
    const first = decide(fresh(NOW.getTime() - 2500), obs(undefined), NOW);
    expect(first.status.phase).toBe(Phase.Pending);
    const again = decide({ ...s, status: first.status }, obs(undefined), at(1));
    expect(again.status.phase).toBe(Phase.Pending);
    expect(again.requeueAfterMs).toBe(1000);
  });

  test('a failed preflight is written at once, whatever the age', () => {
    const d = decide(fresh(NOW.getTime() - 100), obs(undefined, AVAILABLE, { preflight: { ok: false, message: 'Prometheus at http://prometheus.test:9090 did not answer' } }), NOW);
    expect(d.status.phase).toBe(Phase.Pending);
    expect(reasons(d)).toContain(Reason.PreflightFailed);
  });

  test('a release waiting for its workloads says so at once (that wait has its own deadline in status)', () => {
    const d = decide(fresh(NOW.getTime() - 100), obs(undefined, { available: false, message: '0/1 replicas available' }), NOW);
    expect(d.status.canaryWaitingSince).toBe(NOW.toISOString());
    expect(reasons(d)).toContain(Reason.WaitingForCanary);
  });
});
