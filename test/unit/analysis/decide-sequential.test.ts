// decide() with a sequential gate: a bad canary rolled back at its first
// damning round, a step ended early on evidence for the canary, and the
// Healthy condition and message while the gate is judging.
import { describe, expect, test } from '@jest/globals';
import type { Gate } from '../../../src/api/analysis-spec.js';
import { GateVerdict } from '../../../src/api/analysis-status.js';
import { ConditionType, Phase, Reason } from '../../../src/api/conditions.js';
import type { CanaryReleaseStatus, Condition } from '../../../src/api/status.js';
import { decide, type Decision } from '../../../src/core/decide.js';
import { at, baseSpec, iso, obs, progressing, snap } from '../release-fixtures.js';
import { analysisSpec, sequentialRound } from './analysis-fixtures.js';

const SEQ: Gate = { name: 'errors-vs-stable', sequential: { errorRate: {} } };
const spec = (extra: Record<string, unknown> = {}) => ({ ...baseSpec(), analysis: { ...analysisSpec([SEQ]), interval: '30s', ...extra } });
const cond = (d: Decision, type: string): Condition | undefined => d.status.conditions?.find((c) => c.type === type);

const round = sequentialRound;
/** Step 1 (10% for 1m) began at 0, with the canary's first traffic. */
const STEP1: CanaryReleaseStatus = progressing(1, 10, iso(0), { measureFrom: iso(0) });

describe('decide with a sequential gate', () => {
  test('rolls a bad canary back at its first damning round, 30s into a 1m step', () => {
    const d = decide(snap({ spec: spec(), status: STEP1 }), { ...obs(10), analysis: round(0, 30, [17, 67], [31, 2210]) }, at(31));
    expect(d.setCanaryPercent).toBe(0);
    expect(d.status.phase).toBe(Phase.RolledBack);
    expect(cond(d, ConditionType.Progressing)).toMatchObject({ reason: Reason.AnalysisFailed });
    expect(d.status.message).toContain("canary error rate 18x stable's, 17 of 67 vs 31 of 2,210; evidence 2.7e10 against reached the bound of 100: rolled back to v1");
  });

  test('pauses instead with onFailure: pause', () => {
    const d = decide(snap({ spec: spec({ onFailure: 'pause' }), status: STEP1 }), { ...obs(10), analysis: round(0, 30, [17, 67], [31, 2210]) }, at(31));
    expect(d.status).toMatchObject({ phase: Phase.Paused, pausedBy: 'analysis' });
  });

  test('ends a step early on evidence for the canary: 30s into a 1m step, the next weight', () => {
    const d = decide(snap({ spec: spec(), status: STEP1 }), { ...obs(10), analysis: round(0, 30, [50, 10_000], [900, 90_000]) }, at(31));
    expect(d.setCanaryPercent).toBe(50);
    expect(d.status).toMatchObject({ currentStep: 2, stepStartedAt: iso(31) });
    expect(d.events.map((e) => e.reason)).toEqual([Reason.StepAdvanced]);
    expect(d.events[0]?.message).toContain('after gates passed: ');
    expect(d.events[0]?.message).toContain('passes early');
    // The next step's message says it may end before its round, as this one did.
    expect(d.status.message).toMatch(/; next step on the first passing analysis round from .*, or sooner on sequential evidence$/);
  });

  test('holds the step while the gate is judging: Healthy Unknown (Judging), and the message gives the evidence', () => {
    const d = decide(snap({ spec: spec(), status: STEP1 }), { ...obs(10), analysis: round(0, 30, [3, 300], [27, 2700]) }, at(31));
    expect(d.setCanaryPercent).toBeUndefined();
    expect(cond(d, ConditionType.Healthy)).toMatchObject({ status: 'Unknown', reason: Reason.Judging });
    expect(d.status.message).toBe(`Step 1/3: 10% of traffic to v2 for 1m; next step after ${iso(60)}; judging: canary error rate 1.0x stable's, 3 of 300 vs 27 of 2,700; evidence 0.25 against a bound of 100; next round due at ${iso(60)}`);
  });

  // Each round boundary has a look that asks for the round and returns (the result comes a moment later). A
  // message naming the round after that one changed status at every boundary: two status writes per round.
  test('a look while the round it waits for is being measured changes nothing: the message still names that round', () => {
    const every10s = spec({ interval: '10s' });
    const judging = decide(snap({ spec: every10s, status: STEP1 }), { ...obs(10), analysis: round(0, 30, [3, 300], [27, 2700]) }, at(31));
    expect(judging.status.message).toMatch(new RegExp(`; next round due at ${iso(40)}$`));
    // At 40 s the round of 40 s is due and asked for; its result is not in yet.
    const asked = decide(snap({ spec: every10s, status: judging.status }), obs(10), at(40.05));
    expect(asked.status).toEqual(judging.status);
    expect(asked.events).toEqual([]);
    // Still not recorded at 50 s (a slow Prometheus, one round at a time): the message names the next boundary.
    const late = decide(snap({ spec: every10s, status: judging.status }), obs(10), at(50.05));
    expect(late.status.message).toMatch(new RegExp(`; next round due at ${iso(60)}$`));
  });

  test('judges a round by when it was measured: one evaluated before the step\'s end is not an end-of-step pass, even if read after it', () => {
    // The round at 30s has no evidence either way; read at 70s, past the 1m step, it is still Judging, and holds.
    const d = decide(snap({ spec: spec(), status: STEP1 }), { ...obs(10), analysis: round(0, 30, [3, 300], [27, 2700]) }, at(70));
    expect(d.status.analysis?.verdict).toBe(GateVerdict.Judging);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(cond(d, ConditionType.Progressing)).toMatchObject({ reason: Reason.WaitingForAnalysis });
  });

  test('passes at the step\'s end on no evidence against the canary, with minRequests at the step', () => {
    const judging = decide(snap({ spec: spec(), status: STEP1 }), { ...obs(10), analysis: round(0, 30, [3, 300], [27, 2700]) }, at(31));
    const d = decide(snap({ spec: spec(), status: judging.status }), { ...obs(10), analysis: round(30, 60, [3, 300], [27, 2700]) }, at(61));
    expect(d.status.analysis?.verdict).toBe(GateVerdict.Pass);
    expect(d.setCanaryPercent).toBe(50);
  });
});
