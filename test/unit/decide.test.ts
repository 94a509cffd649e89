import { describe, expect, test } from '@jest/globals';
import { ConditionType, Phase, Reason } from '../../src/api/conditions.js';
import { REQUEST_ANNOTATIONS } from '../../src/api/names.js';
import type { Condition } from '../../src/api/status.js';
import { decide, effectiveSubsets, type Decision, type Observations, type ReleaseSnapshot } from '../../src/core/decide.js';
import { resolveManagedRoutes } from '../../src/mesh/virtual-service.js';
import { deepEqual } from '../../src/util/deep-equal.js';
import {
  AVAILABLE, NOW, UNAVAILABLE, at, baseSpec, iso, obs, pending, progressing, reviewsVs, snap, target, trafficAt,
} from './release-fixtures.js';

const cond = (d: Decision, type: string): Condition | undefined => d.status.conditions?.find((c) => c.type === type);
const reasons = (d: Decision) => d.events.map((e) => e.reason);
/** The snapshot after the decision was applied: its status becomes the stored one. */
const after = (s: ReleaseSnapshot, d: Decision, extra: Partial<ReleaseSnapshot> = {}): ReleaseSnapshot => ({
  ...s,
  hasFinalizer: s.hasFinalizer || d.finalizer === 'add',
  status: d.status,
  ...extra,
});
const PROMOTE = REQUEST_ANNOTATIONS.promote;
const ABORT = REQUEST_ANNOTATIONS.abort;
const RETRY = REQUEST_ANNOTATIONS.retry;

describe('a new release', () => {
  const first = decide(snap({ hasFinalizer: false }), obs(undefined), NOW);

  test('starts Pending with the spec subsets at step 0 and 0% canary', () => {
    expect(first.status).toMatchObject({
      phase: Phase.Pending,
      stableSubset: 'v1',
      canarySubset: 'v2',
      currentStep: 0,
      canaryWeight: 0,
      totalSteps: 3,
      observedGeneration: 1,
      releaseStartedAt: NOW.toISOString(),
    });
  });

  test('requests the finalizer be added', () => {
    expect(first.finalizer).toBe('add');
  });

  test('does not ask for the finalizer when the object already has it', () => {
    expect(decide(snap({ hasFinalizer: true }), obs(undefined), NOW).finalizer).toBeUndefined();
  });

  test('emits one Normal Started event and moves no traffic', () => {
    expect(first.events).toEqual([expect.objectContaining({ type: 'Normal', reason: Reason.Started })]);
    expect(first.setCanaryPercent).toBeUndefined();
  });

  test('sets SpecValid True, Progressing True (Started) and Promoted False', () => {
    expect(cond(first, ConditionType.SpecValid)).toMatchObject({ status: 'True', lastTransitionTime: NOW.toISOString(), observedGeneration: 1 });
    expect(cond(first, ConditionType.Progressing)).toMatchObject({ status: 'True', reason: Reason.Started });
    expect(cond(first, ConditionType.Promoted)).toMatchObject({ status: 'False', reason: Reason.NotPromoted });
  });

  test('asks to be looked at again at once', () => {
    expect(first.requeueAfterMs).toBe(0);
  });

  test('does not modify the snapshot it was given', () => {
    const s = snap({ status: pending() });
    const copy = structuredClone(s);
    decide(s, obs(undefined), NOW);
    expect(s).toEqual(copy);
  });
});

describe('effectiveSubsets', () => {
  test("is the status's subsets once a release started", () => {
    expect(effectiveSubsets(snap({ spec: { ...baseSpec(), canary: { subset: 'v3' } }, status: pending() }))).toEqual({ stable: 'v1', canary: 'v2' });
  });
  test("is the spec's subsets before a release started", () => {
    expect(effectiveSubsets(snap())).toEqual({ stable: 'v1', canary: 'v2' });
  });
  test('is undefined with neither a started release nor a valid spec', () => {
    expect(effectiveSubsets(snap({ spec: { service: 'reviews' } }))).toBeUndefined();
  });
});

describe('Pending', () => {
  test('with the canary available moves to Progressing step 1 at the first weight', () => {
    const d = decide(snap({ status: pending() }), obs(undefined), NOW);
    expect(d.setCanaryPercent).toBe(10);
    expect(d.status).toMatchObject({ phase: Phase.Progressing, currentStep: 1, canaryWeight: 10, stepStartedAt: NOW.toISOString() });
    expect(d.events).toEqual([expect.objectContaining({ type: 'Normal', reason: Reason.StepAdvanced })]);
    expect(d.events[0]?.message).toContain('10%');
    expect(cond(d, ConditionType.Progressing)).toMatchObject({ status: 'True', reason: Reason.StepInProgress });
    expect(cond(d, ConditionType.CanaryAvailable)).toMatchObject({ status: 'True' });
    expect(d.requeueAfterMs).toBe(60_000);
  });

  test('with the canary unavailable waits: canaryWaitingSince set, one WaitingForCanary event, no traffic', () => {
    const d = decide(snap({ status: pending() }), obs(undefined, UNAVAILABLE), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.status).toMatchObject({ phase: Phase.Pending, currentStep: 0, canaryWeight: 0, canaryWaitingSince: NOW.toISOString() });
    expect(d.events).toEqual([expect.objectContaining({ type: 'Normal', reason: Reason.WaitingForCanary })]);
    expect(d.events[0]?.message).toContain(UNAVAILABLE.message);
    expect(cond(d, ConditionType.CanaryAvailable)).toMatchObject({ status: 'False', reason: Reason.CanaryUnavailable });
    expect(cond(d, ConditionType.Progressing)).toMatchObject({ status: 'True', reason: Reason.WaitingForCanary });
    expect(d.requeueAfterMs).toBe(15_000);
  });

  test('still waiting on the next call: no second WaitingForCanary event and the same status', () => {
    const s = snap({ status: pending() });
    const d1 = decide(s, obs(undefined, UNAVAILABLE), NOW);
    const d2 = decide(after(s, d1), obs(undefined, UNAVAILABLE), at(30));
    expect(d2.events).toEqual([]);
    expect(d2.status.canaryWaitingSince).toBe(NOW.toISOString());
    expect(d2.status).toEqual(d1.status);
    expect(d2.setCanaryPercent).toBeUndefined();
  });

  test('requeues no later than the waiting deadline', () => {
    const s = snap({ status: pending({ canaryWaitingSince: iso(-600 + 5) }) });
    expect(decide(s, obs(undefined, UNAVAILABLE), NOW).requeueAfterMs).toBe(5_000);
  });

  test('waits with "not checked" when the canary workload could not be observed', () => {
    const d = decide(snap({ status: pending() }), { traffic: trafficAt(undefined) }, NOW);
    expect(d.status.canaryWaitingSince).toBe(NOW.toISOString());
    expect(d.events[0]?.message).toContain('not checked');
  });

  test('after canaryReadyTimeout (default 10m) fails without moving traffic', () => {
    const s = snap({ status: pending({ canaryWaitingSince: iso(-600) }) });
    const d = decide(s, obs(undefined, UNAVAILABLE), NOW);
    expect(d.status.phase).toBe(Phase.Failed);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.status.canaryWeight).toBe(0);
    expect(d.status.completedAt).toBe(NOW.toISOString());
    expect(d.status.canaryWaitingSince).toBeUndefined();
    expect(d.status.message).toContain(RETRY);
    expect(d.events).toEqual([expect.objectContaining({ type: 'Warning', reason: Reason.CanaryReadyTimeout })]);
    expect(cond(d, ConditionType.Progressing)).toMatchObject({ status: 'False', reason: Reason.CanaryReadyTimeout });
    expect(cond(d, ConditionType.Promoted)).toMatchObject({ status: 'False' });
    expect(d.requeueAfterMs).toBeUndefined();
  });

  test('keeps waiting one second before the default deadline', () => {
    const s = snap({ status: pending({ canaryWaitingSince: iso(-599) }) });
    const d = decide(s, obs(undefined, UNAVAILABLE), NOW);
    expect(d.status.phase).toBe(Phase.Pending);
    expect(d.requeueAfterMs).toBe(1_000);
  });

  test('honours spec.canaryReadyTimeout', () => {
    const s = snap({ spec: { ...baseSpec(), canaryReadyTimeout: '30s' }, status: pending({ canaryWaitingSince: iso(-30) }) });
    expect(decide(s, obs(undefined, UNAVAILABLE), NOW).status.phase).toBe(Phase.Failed);
  });

  test('a canary that became available after waiting advances and clears canaryWaitingSince', () => {
    const s = snap({ status: pending({ canaryWaitingSince: iso(-120) }) });
    const d = decide(s, obs(undefined), NOW);
    expect(d.status).toMatchObject({ phase: Phase.Progressing, currentStep: 1 });
    expect(d.status.canaryWaitingSince).toBeUndefined();
    expect(d.setCanaryPercent).toBe(10);
  });

  test('failing after the timeout returns traffic a lost status write left on the canary', () => {
    // The traffic write of step 1 succeeded but the status write did not (a
    // conflict or a crash): status says 0%, the route has 10% on the canary.
    const s = snap({ status: pending({ canaryWaitingSince: iso(-600) }) });
    const d = decide(s, obs(10, UNAVAILABLE), NOW);
    expect(d.setCanaryPercent).toBe(0);
    expect(d.status.canaryWeight).toBe(0);
    expect(d.status.phase).toBe(Phase.RolledBack);
    expect(d.events).toEqual([expect.objectContaining({ type: 'Warning', reason: Reason.CanaryUnavailable })]);
  });
});

describe('one status write per step', () => {
  test('the first hold after an advance leaves the status the advance wrote unchanged', () => {
    const start = snap({ status: pending() });
    const advanced = decide(start, obs(0), NOW);
    expect(advanced.status.currentStep).toBe(1);
    const next = after(start, advanced);
    const hold = decide(next, obs(10), at(1));
    expect(hold.status).toEqual(next.status);
    expect(hold.events).toEqual([]);
  });
});

describe('Progressing', () => {
  // Step 1 (10% for 1m) started 20s ago.
  const holding = snap({ status: progressing(1, 10, iso(-20)) });

  test('holds while the step duration has not elapsed: no traffic, no events', () => {
    const d = decide(holding, obs(10), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.events).toEqual([]);
    expect(d.status).toMatchObject({ phase: Phase.Progressing, currentStep: 1, canaryWeight: 10, stepStartedAt: iso(-20) });
    expect(cond(d, ConditionType.Progressing)).toMatchObject({ status: 'True', reason: Reason.StepInProgress });
  });

  test('requeues after exactly the remaining step time', () => {
    expect(decide(holding, obs(10), NOW).requeueAfterMs).toBe(40_000);
  });

  test('a repeated hold returns the status it was given, unchanged', () => {
    const d1 = decide(holding, obs(10), NOW);
    const again = after(holding, d1);
    const d2 = decide(again, obs(10), at(5));
    expect(d2.status).toEqual(again.status);
    expect(deepEqual(d2.status, again.status)).toBe(true);
    expect(d2.events).toEqual([]);
    expect(d2.setCanaryPercent).toBeUndefined();
    expect(d2.requeueAfterMs).toBe(35_000);
  });

  test('moves to the next step once the duration has elapsed', () => {
    const d = decide(snap({ status: progressing(1, 10, iso(-60)) }), obs(10), NOW);
    expect(d.setCanaryPercent).toBe(50);
    expect(d.status).toMatchObject({ phase: Phase.Progressing, currentStep: 2, canaryWeight: 50, stepStartedAt: NOW.toISOString() });
    expect(d.events).toEqual([expect.objectContaining({ reason: Reason.StepAdvanced })]);
    expect(d.requeueAfterMs).toBe(120_000);
  });

  test('the last step promotes: Succeeded, canaryWeight 100, Promoted True', () => {
    const d = decide(snap({ status: progressing(2, 50, iso(-120)) }), obs(50), NOW);
    expect(d.setCanaryPercent).toBe(100);
    expect(d.status).toMatchObject({ phase: Phase.Succeeded, currentStep: 3, canaryWeight: 100, completedAt: NOW.toISOString() });
    expect(cond(d, ConditionType.Promoted)).toMatchObject({ status: 'True', reason: Reason.Promoted });
    expect(cond(d, ConditionType.Progressing)).toMatchObject({ status: 'False', reason: Reason.Promoted });
    expect(d.events).toEqual([expect.objectContaining({ type: 'Normal', reason: Reason.Promoted })]);
    expect(d.requeueAfterMs).toBeUndefined();
  });

  test('a Succeeded release stays as it is', () => {
    const d1 = decide(snap({ status: progressing(2, 50, iso(-120)) }), obs(50), NOW);
    const s = snap({ status: d1.status });
    const d2 = decide(s, obs(100), at(3600));
    expect(d2.status).toEqual(d1.status);
    expect(d2.events).toEqual([]);
    expect(d2.setCanaryPercent).toBeUndefined();
    expect(d2.requeueAfterMs).toBeUndefined();
  });

  test('an unavailable canary at the end of a step waits and keeps the traffic where it is', () => {
    const d = decide(snap({ status: progressing(1, 10, iso(-60)) }), obs(10, UNAVAILABLE), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.status).toMatchObject({ phase: Phase.Progressing, currentStep: 1, canaryWeight: 10, canaryWaitingSince: NOW.toISOString() });
    expect(reasons(d)).toEqual([Reason.WaitingForCanary]);
  });

  test('an unavailable canary past the deadline mid-release rolls back to 0%', () => {
    const s = snap({ status: progressing(1, 10, iso(-700), { canaryWaitingSince: iso(-600) }) });
    const d = decide(s, obs(10, UNAVAILABLE), NOW);
    expect(d.status.phase).toBe(Phase.RolledBack);
    expect(d.setCanaryPercent).toBe(0);
    expect(d.status.canaryWeight).toBe(0);
    expect(d.status.canaryWaitingSince).toBeUndefined();
    expect(d.events).toEqual([expect.objectContaining({ type: 'Warning', reason: Reason.CanaryUnavailable })]);
    expect(cond(d, ConditionType.Promoted)).toMatchObject({ status: 'False' });
  });

  test('walks a whole release from start to Succeeded', () => {
    let s = snap({ hasFinalizer: false });
    let t = 0;
    let canary: number | undefined;
    const phases: string[] = [];
    const writes: number[] = [];
    for (let i = 0; i < 10 && s.status.phase !== Phase.Succeeded; i++) {
      const d = decide(s, obs(canary), at(t));
      phases.push(d.status.phase as string);
      if (d.setCanaryPercent !== undefined) {
        writes.push(d.setCanaryPercent);
        canary = d.setCanaryPercent;
      }
      s = after(s, d);
      t += (d.requeueAfterMs ?? 0) / 1000;
    }
    expect(phases).toEqual([Phase.Pending, Phase.Progressing, Phase.Progressing, Phase.Succeeded]);
    expect(writes).toEqual([10, 50, 100]);
    expect(t).toBe(180);
  });
});

describe('step planning inside decide', () => {
  test('the stepWeight/maxWeight shorthand walks stepWeight increments up to maxWeight, then 100', () => {
    const spec = { ...baseSpec(), steps: undefined, stepWeight: 20, maxWeight: 50, stepDuration: '30s' };
    const s = snap({ spec, status: pending() });
    const d1 = decide(s, obs(undefined), NOW);
    expect(d1.status.totalSteps).toBe(4); // 20, 40, 50, 100
    expect(d1.setCanaryPercent).toBe(20);
    expect(d1.requeueAfterMs).toBe(30_000);
    const d2 = decide(after(s, d1), obs(20), at(30));
    expect(d2.setCanaryPercent).toBe(40);
    const d3 = decide(after(s, d2), obs(40), at(60));
    expect(d3.setCanaryPercent).toBe(50);
    expect(d3.status.currentStep).toBe(3);
    const d4 = decide(after(s, d3), obs(50), at(90));
    expect(d4.status.phase).toBe(Phase.Succeeded);
    expect(d4.setCanaryPercent).toBe(100);
  });

  test('without steps or shorthand the default plan 10% / 50% / 100% with 1m steps applies', () => {
    const spec = { ...baseSpec(), steps: undefined };
    const d = decide(snap({ spec, status: pending() }), obs(undefined), NOW);
    expect(d.status.totalSteps).toBe(3);
    expect(d.setCanaryPercent).toBe(10);
    expect(d.requeueAfterMs).toBe(60_000);
  });

  test('a step without duration holds for the default 1m', () => {
    const spec = { ...baseSpec(), steps: [{ weight: 25 }, { weight: 100 }] };
    const d = decide(snap({ spec, status: pending() }), obs(undefined), NOW);
    expect(d.setCanaryPercent).toBe(25);
    expect(d.requeueAfterMs).toBe(60_000);
  });

  test('a single 100% step promotes directly from Pending', () => {
    const spec = { ...baseSpec(), steps: [{ weight: 100 }] };
    const d = decide(snap({ spec, status: pending({ totalSteps: 1 }) }), obs(undefined), NOW);
    expect(d.status.phase).toBe(Phase.Succeeded);
    expect(d.setCanaryPercent).toBe(100);
  });
});

describe('pause', () => {
  const paused = { ...baseSpec(), paused: true };

  test('spec.paused moves a Progressing release to Paused with pausedAt and a Paused event', () => {
    const d = decide(snap({ spec: paused, status: progressing(1, 10, iso(-20)) }), obs(10), NOW);
    expect(d.status).toMatchObject({ phase: Phase.Paused, pausedAt: NOW.toISOString(), currentStep: 1, canaryWeight: 10 });
    expect(d.events).toEqual([expect.objectContaining({ type: 'Normal', reason: Reason.Paused })]);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.requeueAfterMs).toBeUndefined();
    expect(cond(d, ConditionType.Progressing)).toMatchObject({ status: 'False', reason: Reason.Paused });
  });

  test('a paused release does not advance even long after its step ended, and emits nothing more', () => {
    const d1 = decide(snap({ spec: paused, status: progressing(1, 10, iso(-20)) }), obs(10), NOW);
    const s = snap({ spec: paused, status: d1.status });
    const d2 = decide(s, obs(10), at(3600));
    expect(d2.status).toEqual(d1.status);
    expect(d2.events).toEqual([]);
    expect(d2.setCanaryPercent).toBeUndefined();
  });

  test('a paused release still undoes drift on its route', () => {
    const s = snap({ spec: paused, status: progressing(1, 10, iso(-20), { phase: Phase.Paused, pausedAt: iso(-10) }) });
    const d = decide(s, obs(40), NOW);
    expect(d.setCanaryPercent).toBe(10);
    expect(reasons(d)).toEqual([Reason.TrafficDrift]);
  });

  test('resuming shifts stepStartedAt by the paused time and continues the step', () => {
    // Step 1 (1m) started 120s ago, paused 100s ago: 20s were used, 40s remain.
    const s = snap({ status: progressing(1, 10, iso(-120), { phase: Phase.Paused, pausedAt: iso(-100) }) });
    const d = decide(s, obs(10), NOW);
    expect(d.status.phase).toBe(Phase.Progressing);
    expect(d.status.stepStartedAt).toBe(iso(-20));
    expect(d.status.pausedAt).toBeUndefined();
    expect(d.requeueAfterMs).toBe(40_000);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.events).toEqual([expect.objectContaining({ reason: Reason.Resumed })]);
    expect(d.events[0]?.message).toContain('1m40s');
  });

  test('resuming a release paused before its first step goes back to Pending and starts it', () => {
    const s = snap({ status: pending({ phase: Phase.Paused, pausedAt: iso(-30) }) });
    const d = decide(s, obs(undefined), NOW);
    expect(reasons(d)).toEqual([Reason.Resumed, Reason.StepAdvanced]);
    expect(d.status).toMatchObject({ phase: Phase.Progressing, currentStep: 1 });
    expect(d.setCanaryPercent).toBe(10);
  });

  test('time spent paused does not count towards canaryReadyTimeout', () => {
    // Waited 50s for the canary, then paused for 650s: 50s of the 10m are used.
    const s = snap({ status: pending({ phase: Phase.Paused, canaryWaitingSince: iso(-700), pausedAt: iso(-650) }) });
    const d = decide(s, obs(undefined, UNAVAILABLE), NOW);
    expect(d.status.phase).toBe(Phase.Pending);
    expect(d.status.canaryWaitingSince).toBe(iso(-50));
    expect(d.requeueAfterMs).toBe(15_000);
    expect(reasons(d)).toEqual([Reason.Resumed]);
  });

  test('pausing a Pending release keeps it at step 0', () => {
    const d = decide(snap({ spec: paused, status: pending() }), obs(undefined), NOW);
    expect(d.status).toMatchObject({ phase: Phase.Paused, currentStep: 0, canaryWeight: 0 });
    expect(d.setCanaryPercent).toBeUndefined();
  });
});

describe('requests', () => {
  test('a new promote value promotes: Succeeded, 100%, handledRequests recorded', () => {
    const s = snap({ status: progressing(1, 10, iso(-20)), annotations: { [PROMOTE]: 'p1' } });
    const d = decide(s, obs(10), NOW);
    expect(d.setCanaryPercent).toBe(100);
    expect(d.status).toMatchObject({ phase: Phase.Succeeded, canaryWeight: 100, handledRequests: { promote: 'p1' } });
    expect(cond(d, ConditionType.Promoted)).toMatchObject({ status: 'True', reason: Reason.ManualPromotion });
    expect(d.events).toEqual([expect.objectContaining({ type: 'Normal', reason: Reason.ManualPromotion })]);
  });

  test('the same promote value again does nothing', () => {
    const s = snap({ status: progressing(1, 10, iso(-20)), annotations: { [PROMOTE]: 'p1' } });
    const d1 = decide(s, obs(10), NOW);
    const d2 = decide(after(s, d1), obs(100), at(10));
    expect(d2.events).toEqual([]);
    expect(d2.setCanaryPercent).toBeUndefined();
    expect(d2.status).toEqual(d1.status);
  });

  test('an already-handled promote value does not promote a release that is still progressing', () => {
    const s = snap({ status: progressing(1, 10, iso(-20), { handledRequests: { promote: 'p1' } }), annotations: { [PROMOTE]: 'p1' } });
    const d = decide(s, obs(10), NOW);
    expect(d.status.phase).toBe(Phase.Progressing);
    expect(d.setCanaryPercent).toBeUndefined();
  });

  test('an empty request annotation is not a request', () => {
    const s = snap({ status: progressing(1, 10, iso(-20)), annotations: { [PROMOTE]: '' } });
    expect(decide(s, obs(10), NOW).status.phase).toBe(Phase.Progressing);
  });

  test('promote is refused with a Warning while the canary is unavailable, and recorded as handled', () => {
    const s = snap({ status: progressing(1, 10, iso(-20)), annotations: { [PROMOTE]: 'p1' } });
    const d = decide(s, obs(10, UNAVAILABLE), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.status).toMatchObject({ phase: Phase.Progressing, canaryWeight: 10, handledRequests: { promote: 'p1' } });
    expect(d.events).toEqual([expect.objectContaining({ type: 'Warning', reason: Reason.RequestIgnored })]);
    expect(d.events[0]?.message).toContain(UNAVAILABLE.message);
  });

  test('promote is refused when the canary workload could not be checked', () => {
    const s = snap({ status: progressing(1, 10, iso(-20)), annotations: { [PROMOTE]: 'p1' } });
    const d = decide(s, { traffic: trafficAt(10) }, NOW);
    expect(d.status.phase).toBe(Phase.Progressing);
    expect(reasons(d)).toEqual([Reason.RequestIgnored]);
  });

  test('abort rolls back: RolledBack, traffic to 0, Warning Aborted', () => {
    const s = snap({ status: progressing(2, 50, iso(-20)), annotations: { [ABORT]: 'a1' } });
    const d = decide(s, obs(50), NOW);
    expect(d.setCanaryPercent).toBe(0);
    expect(d.status).toMatchObject({ phase: Phase.RolledBack, canaryWeight: 0, handledRequests: { abort: 'a1' }, completedAt: NOW.toISOString() });
    expect(d.events).toEqual([expect.objectContaining({ type: 'Warning', reason: Reason.Aborted })]);
    expect(d.events[0]?.message).toContain('50%');
    expect(cond(d, ConditionType.Progressing)).toMatchObject({ status: 'False', reason: Reason.Aborted });
  });

  test('abort of a Paused release clears pausedAt', () => {
    const s = snap({ spec: { ...baseSpec(), paused: true }, status: progressing(1, 10, iso(-20), { phase: Phase.Paused, pausedAt: iso(-5) }), annotations: { [ABORT]: 'a1' } });
    const d = decide(s, obs(10), NOW);
    expect(d.status.phase).toBe(Phase.RolledBack);
    expect(d.status.pausedAt).toBeUndefined();
    expect(d.setCanaryPercent).toBe(0);
  });

  test('abort in Pending with no traffic moved needs no traffic write', () => {
    const d = decide(snap({ status: pending(), annotations: { [ABORT]: 'a1' } }), obs(undefined), NOW);
    expect(d.status.phase).toBe(Phase.RolledBack);
    expect(d.setCanaryPercent).toBeUndefined();
  });

  test('abort wins over promote when both are new, and both are recorded', () => {
    const s = snap({ status: progressing(1, 10, iso(-20)), annotations: { [ABORT]: 'a1', [PROMOTE]: 'p1' } });
    const d = decide(s, obs(10), NOW);
    expect(d.status.phase).toBe(Phase.RolledBack);
    expect(d.status.handledRequests).toEqual({ abort: 'a1', promote: 'p1' });
  });

  test.each([Phase.RolledBack, Phase.Failed])('retry on %s starts the release again from step 0', (phase) => {
    const status = progressing(1, 0, iso(-300), { phase, completedAt: iso(-100), handledRequests: { abort: 'a1' } });
    const s = snap({ status, annotations: { [ABORT]: 'a1', [RETRY]: 'r1' } });
    const d = decide(s, obs(0), NOW);
    expect(d.status).toMatchObject({
      phase: Phase.Pending, currentStep: 0, canaryWeight: 0, stableSubset: 'v1', canarySubset: 'v2',
      releaseStartedAt: NOW.toISOString(), handledRequests: { abort: 'a1', retry: 'r1' },
    });
    expect(d.status.completedAt).toBeUndefined();
    expect(d.status.stepStartedAt).toBeUndefined();
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.events).toEqual([expect.objectContaining({ type: 'Normal', reason: Reason.Retried })]);
    expect(cond(d, ConditionType.Progressing)).toMatchObject({ status: 'True', reason: Reason.Retried });
    expect(d.requeueAfterMs).toBe(0);
    // and the next look starts step 1
    const d2 = decide(after(s, d), obs(0), at(1));
    expect(d2.status).toMatchObject({ phase: Phase.Progressing, currentStep: 1 });
    expect(d2.setCanaryPercent).toBe(10);
  });

  test('retry on a Succeeded release is ignored with a RequestIgnored event and recorded', () => {
    const status = progressing(3, 100, iso(-300), { phase: Phase.Succeeded, completedAt: iso(-100) });
    const d = decide(snap({ status, annotations: { [RETRY]: 'r1' } }), obs(100), NOW);
    expect(d.status.phase).toBe(Phase.Succeeded);
    expect(d.status.handledRequests).toEqual({ retry: 'r1' });
    expect(d.events).toEqual([expect.objectContaining({ type: 'Normal', reason: Reason.RequestIgnored })]);
    expect(d.setCanaryPercent).toBeUndefined();
  });

  test('retry on an active release is ignored with a RequestIgnored event and the step goes on', () => {
    const s = snap({ status: progressing(1, 10, iso(-20)), annotations: { [RETRY]: 'r1' } });
    const d = decide(s, obs(10), NOW);
    expect(d.status).toMatchObject({ phase: Phase.Progressing, currentStep: 1, handledRequests: { retry: 'r1' } });
    expect(reasons(d)).toEqual([Reason.RequestIgnored]);
    expect(d.requeueAfterMs).toBe(40_000);
  });

  test.each([Phase.Succeeded, Phase.RolledBack, Phase.Failed])('promote and abort on a %s release are ignored with RequestIgnored events', (phase) => {
    const weight = phase === Phase.Succeeded ? 100 : 0;
    const status = progressing(1, weight, iso(-300), { phase, completedAt: iso(-100) });
    const d = decide(snap({ status, annotations: { [PROMOTE]: 'p1', [ABORT]: 'a1' } }), obs(weight), NOW);
    expect(d.status.phase).toBe(phase);
    expect(d.status.handledRequests).toEqual({ promote: 'p1', abort: 'a1' });
    expect(reasons(d)).toEqual([Reason.RequestIgnored, Reason.RequestIgnored]);
    expect(d.setCanaryPercent).toBeUndefined();
  });

  test('requests wait while the route cannot be used', () => {
    const s = snap({ status: progressing(1, 10, iso(-20)), annotations: { [ABORT]: 'a1' } });
    const d = decide(s, { traffic: { ok: false, reason: Reason.VirtualServiceNotFound, message: 'VirtualService bookinfo/reviews not found' }, canary: AVAILABLE }, NOW);
    expect(d.status.phase).toBe(Phase.Progressing);
    expect(d.status.handledRequests).toBeUndefined();
  });
});

describe('invalid spec', () => {
  const badSpec = { ...baseSpec(), steps: [{ weight: 10, duration: '1m' }, { weight: 5, duration: '1m' }, { weight: 100 }] };

  test('mid-release: SpecValid False naming the field, one Warning, no traffic, phase unchanged', () => {
    const status = progressing(1, 10, iso(-20));
    const d = decide(snap({ spec: badSpec, status }), obs(30), NOW);
    const specValid = cond(d, ConditionType.SpecValid);
    expect(specValid).toMatchObject({ status: 'False', reason: Reason.InvalidSpec });
    expect(specValid?.message).toContain('spec.steps[1].weight');
    expect(d.events).toEqual([expect.objectContaining({ type: 'Warning', reason: Reason.InvalidSpec })]);
    expect(d.events[0]?.message).toContain('spec.steps[1].weight');
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.status).toMatchObject({ phase: Phase.Progressing, currentStep: 1, canaryWeight: 10, stepStartedAt: iso(-20) });
    expect(d.status.message).toContain('held at 10%');
    expect(d.requeueAfterMs).toBeUndefined();
  });

  test('the same problem on the next call emits no second event', () => {
    const s = snap({ spec: badSpec, status: progressing(1, 10, iso(-20)) });
    const d1 = decide(s, obs(10), NOW);
    const d2 = decide(after(s, d1), obs(10), at(60));
    expect(d2.events).toEqual([]);
    expect(d2.status).toEqual(d1.status);
  });

  test('a different problem emits a new event', () => {
    const s = snap({ spec: badSpec, status: progressing(1, 10, iso(-20)) });
    const d1 = decide(s, obs(10), NOW);
    const other = snap({ spec: { ...baseSpec(), canary: { subset: 'v1' } }, status: d1.status });
    const d2 = decide(other, obs(10), at(1));
    expect(d2.events).toEqual([expect.objectContaining({ type: 'Warning', reason: Reason.InvalidSpec })]);
    expect(d2.events[0]?.message).toContain('spec.canary.subset');
  });

  test('a fixed spec sets SpecValid True again with a Normal event and the release goes on', () => {
    const s = snap({ spec: badSpec, status: progressing(1, 10, iso(-20)) });
    const d1 = decide(s, obs(10), NOW);
    const d2 = decide(snap({ status: d1.status }), obs(10), at(1));
    expect(cond(d2, ConditionType.SpecValid)).toMatchObject({ status: 'True', lastTransitionTime: at(1).toISOString() });
    expect(reasons(d2)).toEqual([Reason.SpecValid]);
    expect(d2.status.phase).toBe(Phase.Progressing);
  });

  test('a new release with an invalid spec gets Progressing/Promoted conditions and the finalizer, but no release', () => {
    const d = decide(snap({ spec: { ...baseSpec(), service: 'Reviews' }, hasFinalizer: false }), obs(undefined), NOW);
    expect(d.finalizer).toBe('add');
    expect(d.status.stableSubset).toBeUndefined();
    expect(d.status.phase).toBe(Phase.Pending);
    expect(cond(d, ConditionType.SpecValid)?.message).toContain('spec.service');
    expect(cond(d, ConditionType.Progressing)).toMatchObject({ reason: Reason.InvalidSpec });
    expect(cond(d, ConditionType.Promoted)).toMatchObject({ status: 'False' });
    expect(d.setCanaryPercent).toBeUndefined();
  });
});

describe('traffic not routable', () => {
  const unroutable: Observations = {
    traffic: { ok: false, reason: Reason.SubsetNotFound, message: 'spec.canary.subset: subset "v2" is not defined in DestinationRule bookinfo/reviews (it has: v1)' },
    canary: AVAILABLE,
  };

  test('holds with TrafficRoutable False, a Warning and no traffic', () => {
    const d = decide(snap({ status: progressing(1, 10, iso(-60)) }), unroutable, NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(cond(d, ConditionType.TrafficRoutable)).toMatchObject({ status: 'False', reason: Reason.SubsetNotFound });
    expect(d.events).toEqual([expect.objectContaining({ type: 'Warning', reason: Reason.SubsetNotFound })]);
    expect(d.status).toMatchObject({ phase: Phase.Progressing, currentStep: 1, canaryWeight: 10 });
    expect(d.status.message).toContain('No traffic was moved');
    expect(d.requeueAfterMs).toBe(30_000);
  });

  test('the same reason on the next call emits no second event', () => {
    const s = snap({ status: progressing(1, 10, iso(-60)) });
    const d1 = decide(s, unroutable, NOW);
    const d2 = decide(after(s, d1), unroutable, at(30));
    expect(d2.events).toEqual([]);
    expect(d2.status).toEqual(d1.status);
  });

  test('no observation at all counts as RouteNotFound', () => {
    const d = decide(snap({ status: pending() }), {}, NOW);
    expect(cond(d, ConditionType.TrafficRoutable)).toMatchObject({ status: 'False', reason: Reason.RouteNotFound });
  });

  test('an unresolvable VirtualService (no route to the subsets) holds a Pending release', () => {
    const vs = reviewsVs(undefined, { stable: 'v9' });
    const traffic = resolveManagedRoutes(vs, target());
    const d = decide(snap({ status: pending() }), { traffic, canary: AVAILABLE }, NOW);
    expect(d.status.phase).toBe(Phase.Pending);
    expect(cond(d, ConditionType.TrafficRoutable)).toMatchObject({ status: 'False', reason: Reason.RouteNotFound });
    expect(d.setCanaryPercent).toBeUndefined();
  });

  test('a route that can be used again sets TrafficRoutable True with a Normal event', () => {
    const s = snap({ status: progressing(1, 10, iso(-20)) });
    const d1 = decide(s, unroutable, NOW);
    const d2 = decide(after(s, d1), obs(10), at(1));
    expect(cond(d2, ConditionType.TrafficRoutable)).toMatchObject({ status: 'True', reason: Reason.Routable });
    expect(d2.events).toEqual([expect.objectContaining({ type: 'Normal', reason: Reason.Routable })]);
  });
});

describe('drift', () => {
  test('routes not at status.canaryWeight while Progressing are re-applied with a TrafficDrift Warning', () => {
    const d = decide(snap({ status: progressing(1, 10, iso(-20)) }), obs(30), NOW);
    expect(d.setCanaryPercent).toBe(10);
    expect(d.events).toEqual([expect.objectContaining({ type: 'Warning', reason: Reason.TrafficDrift })]);
    expect(d.events[0]?.message).toContain('v1=70, v2=30');
    expect(d.status).toMatchObject({ phase: Phase.Progressing, currentStep: 1, canaryWeight: 10 });
  });

  test('routes at the release weight are not touched', () => {
    const d = decide(snap({ status: progressing(1, 10, iso(-20)) }), obs(10), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(reasons(d)).not.toContain(Reason.TrafficDrift);
  });
});

describe('crash recovery', () => {
  test('routes already at the next step weight: the status advances without a second traffic write', () => {
    const d = decide(snap({ status: progressing(1, 10, iso(-60)) }), obs(50), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.status).toMatchObject({ phase: Phase.Progressing, currentStep: 2, canaryWeight: 50 });
    expect(reasons(d)).toEqual([Reason.StepAdvanced]);
  });

  test('a Pending release whose first step reached the route advances without rewriting it', () => {
    const d = decide(snap({ status: pending() }), obs(10), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.status).toMatchObject({ currentStep: 1, canaryWeight: 10 });
  });

  test('routes already at 100% on the last step: Succeeded without a traffic write', () => {
    const d = decide(snap({ status: progressing(2, 50, iso(-120)) }), obs(100), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.status.phase).toBe(Phase.Succeeded);
  });
});

describe('spec subsets changed (supersede)', () => {
  const v3 = { ...baseSpec(), canary: { subset: 'v3' } };

  test('mid-release: traffic back to 0 on the old target, Superseded event, new release Pending', () => {
    const status = progressing(2, 50, iso(-20), { handledRequests: { promote: 'p0' } });
    // The observation is of the release in effect (v1/v2), as the reconciler makes it.
    const d = decide(snap({ spec: v3, status }), obs(50), NOW);
    expect(d.setCanaryPercent).toBe(0);
    expect(reasons(d)).toEqual([Reason.Superseded, Reason.Started]);
    expect(d.events[0]?.message).toContain('v1 -> v2');
    expect(d.status).toMatchObject({
      phase: Phase.Pending, stableSubset: 'v1', canarySubset: 'v3', currentStep: 0, canaryWeight: 0,
      releaseStartedAt: NOW.toISOString(), handledRequests: { promote: 'p0' },
    });
    expect(d.status.stepStartedAt).toBeUndefined();
    expect(d.requeueAfterMs).toBe(0);
  });

  test('mid-release with the route unusable: holds and starts nothing new', () => {
    const status = progressing(2, 50, iso(-20));
    const d = decide(snap({ spec: v3, status }), { traffic: { ok: false, reason: Reason.VirtualServiceNotFound, message: 'gone' } }, NOW);
    expect(d.status).toMatchObject({ phase: Phase.Progressing, canarySubset: 'v2', canaryWeight: 50 });
    expect(d.setCanaryPercent).toBeUndefined();
    expect(reasons(d)).toEqual([Reason.VirtualServiceNotFound]);
  });

  test('after Succeeded: a new release starts without touching traffic', () => {
    const status = progressing(3, 100, iso(-300), { phase: Phase.Succeeded, completedAt: iso(-100) });
    const spec = { ...baseSpec(), stable: { subset: 'v2' }, canary: { subset: 'v3' } };
    const d = decide(snap({ spec, status }), obs(100), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(reasons(d)).toEqual([Reason.Started]);
    expect(d.status).toMatchObject({ phase: Phase.Pending, stableSubset: 'v2', canarySubset: 'v3', currentStep: 0, canaryWeight: 0 });
    expect(d.status.completedAt).toBeUndefined();
  });

  test('a Pending release with no traffic moved is replaced without a traffic write or Superseded event', () => {
    const d = decide(snap({ spec: v3, status: pending() }), obs(undefined), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(reasons(d)).toEqual([Reason.Started]);
    expect(d.status.canarySubset).toBe('v3');
  });

  test('a Pending release whose traffic write outlived a lost status write gives that traffic back', () => {
    // Step 1's traffic write succeeded, its status write did not (conflict with the spec edit).
    const d = decide(snap({ spec: v3, status: pending() }), obs(10), NOW);
    expect(d.setCanaryPercent).toBe(0);
    expect(d.status.canarySubset).toBe('v3');
  });
});

describe('deletion', () => {
  test('mid-release: traffic to 0 and the finalizer removed', () => {
    const d = decide(snap({ deleting: true, status: progressing(2, 50, iso(-20)) }), obs(50), NOW);
    expect(d.setCanaryPercent).toBe(0);
    expect(d.finalizer).toBe('remove');
    expect(d.events).toEqual([expect.objectContaining({ type: 'Normal', reason: Reason.TrafficRestored })]);
  });

  test('mid-release with the route already at 0: only the finalizer is removed', () => {
    const d = decide(snap({ deleting: true, status: progressing(2, 50, iso(-20)) }), obs(0), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.finalizer).toBe('remove');
  });

  test('mid-release with the route unusable: the finalizer is removed with a Warning to check by hand', () => {
    const d = decide(snap({ deleting: true, status: progressing(2, 50, iso(-20)) }), { traffic: { ok: false, reason: Reason.VirtualServiceNotFound, message: 'gone' } }, NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.finalizer).toBe('remove');
    expect(d.events).toEqual([expect.objectContaining({ type: 'Warning', reason: Reason.VirtualServiceNotFound })]);
  });

  test('mid-release with an invalid spec still restores the stable subset', () => {
    const d = decide(snap({ deleting: true, spec: { ...baseSpec(), stepWeight: 500 }, status: progressing(1, 10, iso(-20)) }), obs(10), NOW);
    expect(d.setCanaryPercent).toBe(0);
    expect(d.finalizer).toBe('remove');
  });

  test.each([Phase.Succeeded, Phase.RolledBack, Phase.Failed])('of a %s release: only the finalizer is removed', (phase) => {
    const weight = phase === Phase.Succeeded ? 100 : 0;
    const status = progressing(3, weight, iso(-300), { phase });
    const d = decide(snap({ deleting: true, status }), obs(weight), NOW);
    expect(d.finalizer).toBe('remove');
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.events).toEqual([]);
    expect(d.status).toEqual(status);
  });

  test('without our finalizer: nothing at all', () => {
    const status = progressing(2, 50, iso(-20));
    const d = decide(snap({ deleting: true, hasFinalizer: false, status }), obs(50), NOW);
    expect(d.finalizer).toBeUndefined();
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.events).toEqual([]);
    expect(d.status).toEqual(status);
  });

  test('a Pending release whose first traffic write outlived a lost status write gets that traffic back', () => {
    const d = decide(snap({ deleting: true, status: pending() }), obs(10), NOW);
    expect(d.setCanaryPercent).toBe(0);
    expect(d.finalizer).toBe('remove');
  });

  test('a Pending release with no traffic moved: only the finalizer is removed', () => {
    const d = decide(snap({ deleting: true, status: pending() }), obs(undefined), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.finalizer).toBe('remove');
    expect(d.events).toEqual([]);
  });
});
