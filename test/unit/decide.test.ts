import { describe, expect, test } from '@jest/globals';
import { ConditionType, Phase, Reason } from '../../src/api/conditions.js';
import { REQUEST_ANNOTATIONS } from '../../src/api/names.js';
import type { CanaryReleaseStatus, Condition } from '../../src/api/status.js';
import { decide, effectiveSubsets, type Decision, type Observations, type ReleaseSnapshot } from '../../src/core/decide.js';
import { resolveManagedRoutes, routeView } from '../../src/traffic/istio/virtual-service.js';
import { deepEqual } from '../../src/util/deep-equal.js';
import {
  AVAILABLE, NOW, TARGET, UNAVAILABLE, at, istioRef, baseSpec, iso, obs, pending, progressing, reviewsVs, snap, target, trafficAt,
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
/** The route at `canary` percent after someone else wrote it (a newer revision than the status knows). */
const drifted = (canary: number) => ({ ...obs(canary), route: trafficAt(canary, 'v1', 'v2', 8) });
const PROMOTE = REQUEST_ANNOTATIONS.promote;
const ABORT = REQUEST_ANNOTATIONS.abort;
const RETRY = REQUEST_ANNOTATIONS.retry;

describe('a new release', () => {
  const first = decide(snap({ hasFinalizer: false }), obs(undefined), NOW);
  const waiting = decide(snap({ hasFinalizer: false }), obs(undefined, UNAVAILABLE), NOW);

  test('starts with the spec subsets and route and, with both workloads available, takes step 1 in the same decision', () => {
    expect(first.status).toMatchObject({
      phase: Phase.Progressing,
      stableSubset: 'v1',
      canarySubset: 'v2',
      target: TARGET,
      currentStep: 1,
      canaryWeight: 10,
      totalSteps: 3,
      observedGeneration: 1,
      releaseStartedAt: NOW.toISOString(),
      measureFrom: NOW.toISOString(),
      stepStartedAt: NOW.toISOString(),
      routeRevision: 7,
    });
    expect(first.setCanaryPercent).toBe(10);
  });

  test('with the canary unavailable it starts Pending at step 0 and 0% canary', () => {
    expect(waiting.status).toMatchObject({ phase: Phase.Pending, currentStep: 0, canaryWeight: 0, canaryWaitingSince: NOW.toISOString() });
    expect(waiting.setCanaryPercent).toBeUndefined();
  });

  test('requests the finalizer be added', () => {
    expect(first.finalizer).toBe('add');
  });

  test('does not ask for the finalizer when the object already has it', () => {
    expect(decide(snap({ hasFinalizer: true }), obs(undefined), NOW).finalizer).toBeUndefined();
  });

  test('emits one Normal Started event that also tells the first step taken with it', () => {
    expect(first.events).toEqual([
      { type: 'Normal', reason: Reason.Started, message: 'Release v1 -> v2 started; Step 1/3: 10% of traffic to v2 for 1m (v1 gets 90%)' },
    ]);
    expect(waiting.events).toEqual([
      expect.objectContaining({ type: 'Normal', reason: Reason.Started }),
      expect.objectContaining({ type: 'Normal', reason: Reason.WaitingForCanary }),
    ]);
  });

  test('sets SpecValid True, Progressing True and Promoted False', () => {
    expect(cond(first, ConditionType.SpecValid)).toMatchObject({ status: 'True', lastTransitionTime: NOW.toISOString(), observedGeneration: 1 });
    expect(cond(first, ConditionType.Progressing)).toMatchObject({ status: 'True', reason: Reason.StepInProgress });
    expect(cond(waiting, ConditionType.Progressing)).toMatchObject({ status: 'True', reason: Reason.WaitingForCanary });
    expect(cond(first, ConditionType.Promoted)).toMatchObject({ status: 'False', reason: Reason.NotPromoted });
  });

  test('looks again when the step ends', () => {
    expect(first.requeueAfterMs).toBe(60_000);
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
    const d = decide(snap({ status: pending() }), { route: trafficAt(undefined) }, NOW);
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
    expect(d.status.message).toContain('kubectl canary retry reviews -n bookinfo');
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

  test('failing after the timeout leaves a route it never moved alone, even with canary traffic on it', () => {
    // Intent is recorded before traffic moves: a Pending status means this release moved nothing.
    const s = snap({ status: pending({ canaryWaitingSince: iso(-600) }) });
    const d = decide(s, obs(10, UNAVAILABLE), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.status.phase).toBe(Phase.Failed);
  });

  test('waits for the stable workload too before the first traffic move', () => {
    const d = decide(snap({ status: pending() }), obs(undefined, AVAILABLE, { stable: { available: false, message: 'Deployment reviews-v1 0/2 available' } }), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.status).toMatchObject({ phase: Phase.Pending, currentStep: 0 });
    expect(cond(d, ConditionType.Progressing)).toMatchObject({ reason: Reason.WaitingForStable });
    expect(d.status.message).toContain('reviews-v1 0/2');
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

  test('a Succeeded release records once that its last write landed, then stays as it is', () => {
    const d1 = decide(snap({ status: progressing(2, 50, iso(-120)) }), obs(50), NOW);
    const d2 = decide(snap({ status: d1.status }), obs(100), at(60));
    expect(d2.status).toEqual({ ...d1.status, routeRevision: expect.any(Number), previousCanaryWeight: 100, routeUid: expect.any(String) });
    const d3 = decide(snap({ status: d2.status }), obs(100), at(3600));
    expect(d3.status).toEqual(d2.status);
    expect(d3.events).toEqual([]);
    expect(d3.setCanaryPercent).toBeUndefined();
    expect(d3.requeueAfterMs).toBeUndefined();
  });

  test('a rolled-back release records once that its write back to stable landed, then stays as it is', () => {
    const d1 = decide(snap({ status: progressing(2, 50, iso(-20)), annotations: { [ABORT]: 'a1' } }), obs(50), NOW);
    expect({ phase: d1.status.phase, set: d1.setCanaryPercent }).toEqual({ phase: Phase.RolledBack, set: 0 });
    const d2 = decide(snap({ status: d1.status, annotations: { [ABORT]: 'a1' } }), obs(0, undefined, { route: trafficAt(0, 'v1', 'v2', 8) }), at(60));
    expect(d2.status).toEqual({ ...d1.status, routeRevision: 8, previousCanaryWeight: 0, routeUid: expect.any(String) });
    const d3 = decide(snap({ status: d2.status, annotations: { [ABORT]: 'a1' } }), obs(0, undefined, { route: trafficAt(0, 'v1', 'v2', 8) }), at(3600));
    expect(d3.status).toEqual(d2.status);
    expect(d3.events).toEqual([]);
  });

  // A crash (or a failed write) between the promotion's status and its route write, then other edits of the
  // VirtualService: the promotion is still finished. Taking two edits for "our write and a revert" instead
  // (as an active release must) would free the route for another release while the promoted canary keeps
  // its old share (the property test found that); the record of the landing is what tells the two apart.
  test.each([
    ['no other edit', 7],
    ['one other edit (another route, a timeout)', 8],
    ['two other edits', 9],
  ])('a Succeeded release whose last write never landed, with %s, finishes it', (_, revision) => {
    const d1 = decide(snap({ status: progressing(2, 50, iso(-120)) }), obs(50), NOW);
    const d = decide(snap({ status: d1.status }), obs(50, undefined, { route: trafficAt(50, 'v1', 'v2', revision) }), at(60));
    expect(d.setCanaryPercent).toBe(100);
    expect(d.events).toEqual([]);
  });

  test('a rolled-back release whose write back to stable never landed finishes it, whatever else changed on the route', () => {
    const d1 = decide(snap({ status: progressing(2, 50, iso(-20)), annotations: { [ABORT]: 'a1' } }), obs(50), NOW);
    const d = decide(snap({ status: d1.status, annotations: { [ABORT]: 'a1' } }), obs(50, undefined, { route: trafficAt(50, 'v1', 'v2', 30) }), at(60));
    expect(d.setCanaryPercent).toBe(0);
    expect(d.events).toEqual([]);
  });

  test('a canary that cannot serve while it has traffic holds, says so with a deadline, and stops the step clock', () => {
    const d = decide(snap({ status: progressing(1, 10, iso(-30)) }), obs(10, UNAVAILABLE), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.status).toMatchObject({ phase: Phase.Progressing, currentStep: 1, canaryWeight: 10, canaryLostSince: NOW.toISOString(), heldSince: NOW.toISOString() });
    expect(reasons(d)).toEqual([Reason.CanaryUnavailable]);
    expect(d.status.message).toContain('10% of traffic');
    expect(d.status.message).toContain(`back to v1 at ${iso(60)}`);
    expect(d.requeueAfterMs).toBe(15_000);
  });

  test('a canary that cannot serve past canaryUnavailableTimeout (default 1m) gets its traffic back: rolled back to 0%', () => {
    const s = snap({ status: progressing(1, 10, iso(-700), { canaryLostSince: iso(-60), heldSince: iso(-60) }) });
    const d = decide(s, obs(10, UNAVAILABLE), NOW);
    expect(d.status.phase).toBe(Phase.RolledBack);
    expect(d.setCanaryPercent).toBe(0);
    expect(d.status.canaryWeight).toBe(0);
    expect(d.status.canaryLostSince).toBeUndefined();
    expect(d.events).toEqual([expect.objectContaining({ type: 'Warning', reason: Reason.CanaryUnavailable })]);
    expect(d.status.message).toContain('kubectl canary retry reviews -n bookinfo');
    expect(cond(d, ConditionType.Promoted)).toMatchObject({ status: 'False' });
  });

  test('a canary that can serve again continues, the held time given back to the step', () => {
    const s = snap({ status: progressing(1, 10, iso(-50), { canaryLostSince: iso(-20), heldSince: iso(-20) }) });
    const d = decide(s, obs(10), NOW);
    expect(d.status.phase).toBe(Phase.Progressing);
    expect(d.status.stepStartedAt).toBe(iso(-30));
    expect(d.status.canaryLostSince).toBeUndefined();
    expect(d.status.heldSince).toBeUndefined();
    expect(d.status.measureFrom).toBe(NOW.toISOString());
    expect(reasons(d)).toEqual([Reason.CanaryAvailable]);
    expect(d.requeueAfterMs).toBe(30_000);
  });

  test('honours spec.canaryUnavailableTimeout', () => {
    const s = snap({ spec: { ...baseSpec(), canaryUnavailableTimeout: '10s' }, status: progressing(1, 10, iso(-700), { canaryLostSince: iso(-10), heldSince: iso(-10) }) });
    expect(decide(s, obs(10, UNAVAILABLE), NOW).status.phase).toBe(Phase.RolledBack);
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
    expect(phases).toEqual([Phase.Progressing, Phase.Progressing, Phase.Succeeded]);
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
    const d = decide(s, drifted(40), NOW);
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
    // Only the record that the promotion's write landed.
    expect(d2.status).toEqual({ ...d1.status, previousCanaryWeight: 100, routeRevision: expect.any(Number), routeUid: expect.any(String) });
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
    // The canary with traffic that cannot serve is held too, with its deadline.
    expect(d.events).toEqual([
      expect.objectContaining({ type: 'Warning', reason: Reason.RequestIgnored }),
      expect.objectContaining({ type: 'Warning', reason: Reason.CanaryUnavailable }),
    ]);
    expect(d.events[0]?.message).toContain(UNAVAILABLE.message);
  });

  test('promote is refused when the canary workload could not be checked', () => {
    const s = snap({ status: progressing(1, 10, iso(-20)), annotations: { [PROMOTE]: 'p1' } });
    const d = decide(s, { route: trafficAt(10) }, NOW);
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

  test('abort in Pending leaves alone a canary share another release put on the route (it promoted the same subset while this one waited)', () => {
    // A release takes back only the traffic it moved: writing 0 here would undo the other release's promotion.
    const d = decide(snap({ status: pending({ ownsRouteSince: iso(0) }), annotations: { [ABORT]: 'a1' } }), obs(100), NOW);
    expect(d.status).toMatchObject({ phase: Phase.RolledBack, canaryWeight: 0 });
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.status.routeRevision).toBeUndefined();
  });

  test('abort wins over promote when both are new, and both are recorded', () => {
    const s = snap({ status: progressing(1, 10, iso(-20)), annotations: { [ABORT]: 'a1', [PROMOTE]: 'p1' } });
    const d = decide(s, obs(10), NOW);
    expect(d.status.phase).toBe(Phase.RolledBack);
    expect(d.status.handledRequests).toEqual({ abort: 'a1', promote: 'p1' });
  });

  test.each([Phase.RolledBack, Phase.Failed])('retry on %s starts the release again from its first step', (phase) => {
    const status = progressing(1, 0, iso(-300), { phase, completedAt: iso(-100), handledRequests: { abort: 'a1' } });
    const s = snap({ status, annotations: { [ABORT]: 'a1', [RETRY]: 'r1' } });
    const d = decide(s, obs(0), NOW);
    expect(d.status).toMatchObject({
      phase: Phase.Progressing, currentStep: 1, canaryWeight: 10, stableSubset: 'v1', canarySubset: 'v2',
      releaseStartedAt: NOW.toISOString(), measureFrom: NOW.toISOString(), stepStartedAt: NOW.toISOString(),
      handledRequests: { abort: 'a1', retry: 'r1' },
    });
    expect(d.status.completedAt).toBeUndefined();
    expect(d.setCanaryPercent).toBe(10);
    expect(d.events).toEqual([expect.objectContaining({ reason: Reason.Retried, message: expect.stringMatching(/restarted on request; Step 1\/\d: 10% of traffic to v2/) })]);
  });

  test('retry with the canary still unavailable waits for it, Pending', () => {
    const status = progressing(1, 0, iso(-300), { phase: Phase.Failed, completedAt: iso(-100) });
    const d = decide(snap({ status, annotations: { [RETRY]: 'r1' } }), obs(0, UNAVAILABLE), NOW);
    expect(d.status).toMatchObject({ phase: Phase.Pending, currentStep: 0, canaryWeight: 0 });
    expect(cond(d, ConditionType.Progressing)).toMatchObject({ status: 'True', reason: Reason.WaitingForCanary });
    expect(d.setCanaryPercent).toBeUndefined();
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

  test('abort while the route cannot be read ends the release, writes nothing and says what to set by hand', () => {
    const s = snap({ status: progressing(1, 10, iso(-20)), annotations: { [ABORT]: 'a1' } });
    const d = decide(s, { route: { ok: false, reason: Reason.VirtualServiceNotFound, message: 'VirtualService bookinfo/reviews not found' }, canary: AVAILABLE }, NOW);
    expect(d.status.phase).toBe(Phase.RolledBack);
    expect(d.status.handledRequests).toEqual({ abort: 'a1' });
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.status.message).toContain("set v2's weight to 0 by hand");
  });

  /** Abort at 10% while the DestinationRule lacks one subset (the route itself is readable). */
  const abortWithout = (subset: 'v1' | 'v2') => {
    const seen = obs(10).route;
    const route = { ok: false as const, reason: Reason.SubsetNotFound, message: `subset ${subset} is gone`,
      unreachable: subset === 'v1' ? 'stable' as const : 'canary' as const, view: seen?.ok ? seen.view : undefined };
    return decide(snap({ status: progressing(1, 10, iso(-20)), annotations: { [ABORT]: 'a1' } }), { route, canary: AVAILABLE }, NOW);
  };

  test('abort while the stable subset is unreachable never sends everything to it (recorded, written later)', () => {
    const d = abortWithout('v1');
    expect({ phase: d.status.phase, set: d.setCanaryPercent, weight: d.status.canaryWeight }).toEqual({ phase: Phase.RolledBack, set: undefined, weight: 0 });
  });

  test('abort while only the canary is unreachable takes its traffic back through the route', () => {
    const d = abortWithout('v2');
    expect({ phase: d.status.phase, set: d.setCanaryPercent }).toEqual({ phase: Phase.RolledBack, set: 0 });
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
    route: { ok: false, reason: Reason.SubsetNotFound, message: 'spec.canary.subset: subset "v2" is not defined in DestinationRule bookinfo/reviews (it has: v1)' },
    canary: AVAILABLE,
  };

  test('holds with TrafficRoutable False, a Warning, no write, and says where the traffic was left', () => {
    const d = decide(snap({ status: progressing(1, 10, iso(-60)) }), unroutable, NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(cond(d, ConditionType.TrafficRoutable)).toMatchObject({ status: 'False', reason: Reason.SubsetNotFound });
    expect(d.events).toEqual([expect.objectContaining({ type: 'Warning', reason: Reason.SubsetNotFound })]);
    expect(d.status).toMatchObject({ phase: Phase.Progressing, currentStep: 1, canaryWeight: 10, heldSince: NOW.toISOString() });
    expect(d.status.message).toContain('last set to 10% on v2');
    expect(d.status.message).not.toContain('No traffic was moved');
    expect(d.requeueAfterMs).toBe(30_000);
  });

  test('a Pending release that cannot use its route says no traffic was moved', () => {
    const d = decide(snap({ status: pending() }), unroutable, NOW);
    expect(d.status.message).toContain('No traffic was moved');
  });

  test('a canary whose subset vanished while it has traffic is held with a deadline, then gets its traffic back', () => {
    const route = { ...trafficAt(10), ok: false as const, reason: Reason.SubsetNotFound, message: 'subset "v2" is not defined', unreachable: 'canary' as const };
    const held = decide(snap({ status: progressing(1, 10, iso(-60)) }), { route, canary: AVAILABLE }, NOW);
    expect(held.setCanaryPercent).toBeUndefined();
    expect(held.status.canaryLostSince).toBe(NOW.toISOString());
    expect(held.status.message).toContain(`back to v1 at ${iso(60)}`);
    expect(cond(held, ConditionType.TrafficRoutable)).toMatchObject({ status: 'False', reason: Reason.SubsetNotFound });
    const later = decide(snap({ status: held.status }), { route, canary: AVAILABLE }, at(60));
    expect(later.status.phase).toBe(Phase.RolledBack);
    expect(later.setCanaryPercent).toBe(0);
    expect(cond(later, ConditionType.Progressing)).toMatchObject({ reason: Reason.CanaryUnavailable });
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
    const resolved = resolveManagedRoutes(vs, target());
    const route = resolved.ok ? { ok: true as const, view: routeView(resolved.routes, target(), 7, 'uid-vs') } : resolved;
    const d = decide(snap({ status: pending() }), { route, canary: AVAILABLE }, NOW);
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

describe('a subset that vanished', () => {
  test('the stable subset gone while the canary has traffic: hold, never send everything to a subset that cannot be reached', () => {
    const route = { ...trafficAt(10), ok: false as const, reason: Reason.SubsetNotFound, message: 'subset "v1" is not defined', unreachable: 'stable' as const };
    const d = decide(snap({ status: progressing(1, 10, iso(-60), { canaryLostSince: iso(-120) }) }), { route, canary: AVAILABLE }, NOW);
    expect(d.status.phase).toBe(Phase.Progressing);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(cond(d, ConditionType.TrafficRoutable)).toMatchObject({ status: 'False', reason: Reason.SubsetNotFound });
  });
});

describe('drift', () => {
  test('routes changed by someone else while Progressing are re-applied with a TrafficDrift Warning', () => {
    const d = decide(snap({ status: progressing(1, 10, iso(-20)) }), drifted(30), NOW);
    expect(d.setCanaryPercent).toBe(10);
    expect(d.events).toEqual([expect.objectContaining({ type: 'Warning', reason: Reason.TrafficDrift })]);
    expect(d.events[0]?.message).toContain('v1 70%, v2 30%');
    expect(d.status).toMatchObject({ phase: Phase.Progressing, currentStep: 1, canaryWeight: 10, routeRevision: 8 });
  });

  test('routes at the release weight are not touched', () => {
    const d = decide(snap({ status: progressing(1, 10, iso(-20)) }), obs(10), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(reasons(d)).not.toContain(Reason.TrafficDrift);
  });
});

describe('a write still pending after a crash or a failed traffic write (intent recorded first)', () => {
  test('the route still at the revision the status names is the operator\'s own unfinished step: written, no drift, the step starts now', () => {
    // Status says step 2 at 50% decided at revision 7; the route never got it (still 10%, revision 7).
    const d = decide(snap({ status: progressing(2, 50, iso(-30)) }), obs(10), NOW);
    expect(d.setCanaryPercent).toBe(50);
    expect(reasons(d)).toEqual([]);
    expect(d.status).toMatchObject({ currentStep: 2, canaryWeight: 50, routeRevision: 7, stepStartedAt: NOW.toISOString() });
  });

  test('a decided rollback still pending is finished, never undone', () => {
    const status = progressing(1, 0, iso(-30), { phase: Phase.RolledBack, completedAt: iso(-1) });
    const d = decide(snap({ status }), obs(10), NOW);
    expect(d.setCanaryPercent).toBe(0);
    expect(d.status.phase).toBe(Phase.RolledBack);
    expect(reasons(d)).toEqual([]);
  });

  test('a decided promotion still pending is finished', () => {
    const status = progressing(3, 100, iso(-30), { phase: Phase.Succeeded, completedAt: iso(-1) });
    const d = decide(snap({ status }), obs(50), NOW);
    expect(d.setCanaryPercent).toBe(100);
  });

  test('a Pending release whose route already shows the first step\'s weight adopts it without rewriting it', () => {
    const d = decide(snap({ status: pending() }), obs(10), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.status).toMatchObject({ currentStep: 1, canaryWeight: 10 });
  });
});

describe('spec subsets changed (supersede)', () => {
  const v3 = { ...baseSpec(), canary: { subset: 'v3' } };

  test('mid-release: the old route is recorded for restore and returned to stable, Superseded event, new release Pending', () => {
    const status = progressing(2, 50, iso(-20), { handledRequests: { promote: 'p0' } });
    // The observation is of the release in effect (v1/v2), as the reconciler makes it.
    const d = decide(snap({ spec: v3, status }), obs(50), NOW);
    expect(d.restoreStable).toBe(true);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(reasons(d)).toEqual([Reason.Superseded, Reason.Started]);
    expect(d.events[0]?.message).toContain('v1 -> v2');
    expect(d.status).toMatchObject({
      phase: Phase.Pending, stableSubset: 'v1', canarySubset: 'v3', currentStep: 0, canaryWeight: 0,
      releaseStartedAt: NOW.toISOString(), handledRequests: { promote: 'p0' },
      restore: { target: TARGET, stableSubset: 'v1', canarySubset: 'v2' },
    });
    expect(d.status.stepStartedAt).toBeUndefined();
    expect(d.requeueAfterMs).toBe(100);
  });

  test('the new release waits until the replaced one\'s route is back on stable, then starts', () => {
    const status = progressing(2, 50, iso(-20));
    const d1 = decide(snap({ spec: v3, status }), obs(50), NOW);
    const waiting = decide(snap({ spec: v3, status: d1.status }), { ...obs(50), restoreRoute: trafficAt(50) }, at(1));
    expect(waiting.restoreStable).toBe(true);
    expect(waiting.setCanaryPercent).toBeUndefined();
    expect(cond(waiting, ConditionType.Progressing)).toMatchObject({ reason: Reason.WaitingForRestore });
    // Restored: the old route is at 0; the new release (v1 -> v3) sees v1 with all traffic and starts.
    const v3Route = trafficAt(undefined, 'v1', 'v3');
    const restored = decide(snap({ spec: v3, status: waiting.status }), { ...obs(undefined), route: v3Route, restoreRoute: trafficAt(0) }, at(2));
    expect(restored.status.restore).toBeUndefined();
    expect(restored.status.ownsRouteSince).toBeUndefined();
    expect(reasons(restored)).toEqual([Reason.TrafficRestored]);
    // The next look: the new release takes its route like any other, and starts.
    const started = decide(snap({ spec: v3, status: restored.status }), { ...obs(undefined), route: v3Route }, at(3));
    expect(reasons(started)).toEqual([Reason.StepAdvanced]);
    expect(started.status).toMatchObject({ canarySubset: 'v3', currentStep: 1, canaryWeight: 10 });
  });

  test('a changed route name is a new release too, the old route restored first', () => {
    const status = progressing(1, 10, iso(-20));
    const spec = { ...baseSpec(), virtualService: { name: 'reviews-b' } };
    const d = decide(snap({ spec, status }), obs(10), NOW);
    expect(d.status.restore?.target.name).toBe('reviews');
    expect(d.status.target?.name).toBe('reviews-b');
    expect(d.restoreStable).toBe(true);
    expect(d.events[0]?.message).toContain('VirtualService reviews -> VirtualService reviews-b');
  });

  test('mid-release with the old route gone: the new release starts, nothing to restore', () => {
    const status = progressing(2, 50, iso(-20));
    const gone = { ok: false as const, reason: Reason.VirtualServiceNotFound, message: 'gone' };
    const d1 = decide(snap({ spec: v3, status }), { route: gone }, NOW);
    expect(d1.status).toMatchObject({ phase: Phase.Pending, canarySubset: 'v3' });
    const d2 = decide(snap({ spec: v3, status: d1.status }), { route: gone, restoreRoute: gone }, at(1));
    expect(d2.status.restore).toBeUndefined();
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

  test('a Pending release replaced before it moved anything restores nothing, even with canary traffic on the route', () => {
    const d = decide(snap({ spec: v3, status: pending() }), obs(10), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.restoreStable).toBeUndefined();
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
    const d = decide(snap({ deleting: true, status: progressing(2, 50, iso(-20)) }), { route: { ok: false, reason: Reason.VirtualServiceNotFound, message: 'gone' } }, NOW);
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

  test.each([[Phase.Succeeded, 100], [Phase.RolledBack, 0]])('of a %s release whose last route write has not landed: it is finished before the finalizer goes', (phase, weight) => {
    // Promoted (or rolled back) at 10%, the write failed, then the release was deleted: the route still shows 10%.
    const status = progressing(1, weight, iso(-300), { phase, previousCanaryWeight: 10 });
    const d = decide(snap({ deleting: true, status }), obs(10), NOW);
    expect(d.finalizer).toBe('remove');
    expect(d.setCanaryPercent).toBe(weight);
  });

  test('of a Succeeded release whose route was changed by someone else afterwards: left alone', () => {
    const status = progressing(1, 100, iso(-300), { phase: Phase.Succeeded, previousCanaryWeight: 100 });
    const d = decide(snap({ deleting: true, status }), obs(10, undefined, { route: trafficAt(10, 'v1', 'v2', 9) }), NOW);
    expect(d.finalizer).toBe('remove');
    expect(d.setCanaryPercent).toBeUndefined();
  });

  test('without our finalizer: nothing at all', () => {
    const status = progressing(2, 50, iso(-20));
    const d = decide(snap({ deleting: true, hasFinalizer: false, status }), obs(50), NOW);
    expect(d.finalizer).toBeUndefined();
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.events).toEqual([]);
    expect(d.status).toEqual(status);
  });

  test('a Pending release leaves canary traffic it did not move alone (intent is recorded before any move)', () => {
    const d = decide(snap({ deleting: true, status: pending() }), obs(10), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.finalizer).toBe('remove');
  });

  test('a replaced release still being restored is restored on deletion too', () => {
    const status = { ...pending(), restore: { target: TARGET, stableSubset: 'v1', canarySubset: 'v2' } };
    const d = decide(snap({ deleting: true, status }), { ...obs(undefined), restoreRoute: trafficAt(30) }, NOW);
    expect(d.restoreStable).toBe(true);
    expect(d.finalizer).toBe('remove');
  });

  test('a Pending release with no traffic moved: only the finalizer is removed', () => {
    const d = decide(snap({ deleting: true, status: pending() }), obs(undefined), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.finalizer).toBe('remove');
    expect(d.events).toEqual([]);
  });
});

describe('timestamps from a clock that ran ahead', () => {
  test('are pulled back to now once, so a hold measured from them can end', () => {
    // A replica with a fast clock wrote times an hour ahead.
    const status = progressing(1, 10, iso(3600), { canaryLostSince: iso(3600), heldSince: iso(3600), measureFrom: iso(3600) });
    const d = decide(snap({ status }), obs(10, UNAVAILABLE), NOW);
    expect(d.status).toMatchObject({ stepStartedAt: NOW.toISOString(), canaryLostSince: NOW.toISOString(), measureFrom: NOW.toISOString() });
    // and the canary-unavailable deadline runs from now: a minute later it has its traffic back.
    const later = decide(snap({ status: d.status }), obs(10, UNAVAILABLE), at(60));
    expect(later.status.phase).toBe(Phase.RolledBack);
  });

  test('a future analysis round is pulled back too, so rounds resume at the next boundary', () => {
    const withA = { ...baseSpec(), analysis: { prometheus: { address: 'http://p:9090' }, gates: [{ name: 'errors', errorRate: { max: '1%' } }] } };
    const status = progressing(1, 10, iso(-600), { analysis: { evaluatedAt: iso(3600), measuredFrom: iso(3540), verdict: 'Pass', consecutiveFailures: 0, gates: [] } });
    const d = decide(snap({ spec: withA, status }), obs(10), NOW);
    expect(d.status.analysis?.evaluatedAt).toBe(NOW.toISOString());
  });
});

describe('a replaced release returning its old route', () => {
  test('ends the restore when the old route no longer resolves (renamed route), and says so', () => {
    let st: CanaryReleaseStatus = { ...pending(), restore: { target: istioRef('reviews', { routes: ['primary'] }), stableSubset: 'v1', canarySubset: 'v2' } };
    const restoreRoute = { ok: false as const, reason: Reason.RouteNotFound, message: 'spec.virtualService.routes: the VirtualService has no HTTP route named "primary"' };
    const told: string[] = [];
    for (let k = 0; k < 3; k++) {
      const d = decide(snap({ status: st }), { ...obs(0), restoreRoute }, at(k * 3600));
      told.push(...d.events.map((e) => e.message));
      st = d.status;
    }
    expect(st.restore).toBeUndefined();
    expect(told.filter((m) => m.includes('"primary"'))).toHaveLength(1);
  });
});

describe('a route the mesh has not taken yet (an HTTPRoute not Accepted for its generation)', () => {
  const notApplied = (canary: number, message = 'waiting for the mesh to report Accepted for generation 8 on parent Service reviews'): Observations => {
    const seen = trafficAt(canary);
    if (!seen.ok) throw new Error('fixture');
    return { ...obs(canary), route: { ok: true, view: { ...seen.view, applied: { ok: false, message } } } };
  };

  test('holds the step, says what the mesh has not reported, and the step\'s clock stops until it has', () => {
    // Step 1 began 120s ago (past its 1m): without the mesh's word it does not advance.
    const d = decide(snap({ status: progressing(1, 10, iso(-120)) }), notApplied(10), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.status.message).toBe('Waiting for the mesh to take the route at 10% on v2: waiting for the mesh to report Accepted for generation 8 on parent Service reviews');
    expect(d.status.heldSince).toBe(NOW.toISOString());
    // A step 20s in, held 30s, then accepted: the hold is given back to the step, and analysis windows start again.
    const held = decide(snap({ status: progressing(1, 10, iso(-20)) }), notApplied(10), NOW);
    const d2 = decide(snap({ status: held.status }), obs(10), at(30));
    expect(d2.status.heldSince).toBeUndefined();
    expect(d2.status.stepStartedAt).toBe(iso(10));
    expect(d2.status.measureFrom).toBe(iso(30));
  });

  test('does not move traffic before the first step either', () => {
    const d = decide(snap({}), notApplied(0, 'no mesh controller has reported on parent Service reviews yet'), NOW);
    expect(d.setCanaryPercent).toBeUndefined();
    expect(d.status.message).toContain('no mesh controller has reported');
  });

  test('never stops an abort', () => {
    const d = decide(snap({ status: progressing(1, 10, iso(-20)), annotations: { [ABORT]: 'a1' } }), notApplied(10), NOW);
    expect({ phase: d.status.phase, set: d.setCanaryPercent }).toEqual({ phase: Phase.RolledBack, set: 0 });
  });
});

describe('another provider\'s route for the same Service', () => {
  const conflicting = ['VirtualService bookinfo/reviews'];

  test('is said once in a Warning and kept in the RouteConflict condition, without holding the release', () => {
    const d1 = decide(snap({ status: progressing(1, 10, iso(-120)) }), { ...obs(10), conflicts: conflicting }, NOW);
    expect(d1.events.filter((e) => e.reason === Reason.ConflictingRoutes)).toEqual([
      expect.objectContaining({ type: 'Warning', message: expect.stringContaining('VirtualService bookinfo/reviews also route') }),
    ]);
    expect(cond(d1, ConditionType.RouteConflict)).toMatchObject({ status: 'True', reason: Reason.ConflictingRoutes });
    expect(d1.setCanaryPercent).toBe(50);
    const d2 = decide(snap({ status: d1.status }), { ...obs(50), conflicts: conflicting }, at(1));
    expect(d2.events.map((e) => e.reason)).not.toContain(Reason.ConflictingRoutes);
    const d3 = decide(snap({ status: d2.status }), obs(50), at(2));
    expect(cond(d3, ConditionType.RouteConflict)).toMatchObject({ status: 'False', reason: Reason.NoConflictingRoutes });
  });
});
