// The benchmark's release loop and its judge on worlds simple enough to know
// the answer: a judge is asked once per interval, steps advance and promote
// as the reconciler does, and the project's real gate rules decide (windowed
// and sequential gates alike).
import { describe, expect, test } from '@jest/globals';
import { driveRelease } from '../../../bench/judge/drive-release.js';
import { gatesJudge, todaysGatesJudge } from '../../../bench/judge/gates-judge.js';
import type { ReleaseJudge, RoundContext } from '../../../bench/judge/release-judge.js';
import { RELEASE_PLAN } from '../../../bench/judge/release-plan.js';
import type { ReleaseScenario } from '../../../bench/judge/release-scenario.js';

const world = (errorRatio: number, stableErrorRate: number): ReleaseScenario => ({
  seed: 7, requestsPerSecond: 500, kind: { name: 'test', errorRatio, p99Factor: 1 }, stableErrorRate, stableP50Ms: 20, stableP99Ms: 100, bursts: [],
});
const scripted = (decide: (ctx: RoundContext) => { fail?: 'gates' | 'inconclusive'; advance: boolean }, seen: RoundContext[] = []): ReleaseJudge => ({
  startStep() {},
  round(ctx) {
    seen.push(ctx);
    return decide(ctx);
  },
});

describe('driveRelease', () => {
  test('a judge failing its first round rolls back at the first interval, counting the canary requests served', () => {
    const o = driveRelease(world(1, 0.01), RELEASE_PLAN, scripted(() => ({ fail: 'gates', advance: false })));
    expect(o.result).toBe('rolledBack');
    expect(o.atMs).toBe(30_000);
    // 500 requests/s, 10% for 30 s: about 1,500.
    expect(o.canaryRequests).toBeGreaterThan(1300);
    expect(o.canaryRequests).toBeLessThan(1700);
  });

  test('a judge that always lets a step end promotes after the 10% and 50% steps, at the second round', () => {
    const seen: RoundContext[] = [];
    const o = driveRelease(world(1, 0.01), RELEASE_PLAN, scripted(() => ({ advance: true }), seen));
    expect(o).toMatchObject({ result: 'promoted', atMs: 60_000 });
    expect(seen.map((c) => c.stepStartedAt)).toEqual([0, 30_000]);
  });

  test('a judge that never decides leaves the release inconclusive at its end, and was asked every interval', () => {
    const seen: RoundContext[] = [];
    const o = driveRelease(world(1, 0.01), RELEASE_PLAN, scripted(() => ({ advance: false }), seen));
    expect(o).toMatchObject({ result: 'inconclusive', atMs: RELEASE_PLAN.deadlineMs });
    expect(seen).toHaveLength(RELEASE_PLAN.deadlineMs / RELEASE_PLAN.intervalMs);
    expect(seen[1]?.stepTimeIsUp).toBe(true);
  });
});

describe('the judges on a 500 requests/s world', () => {
  const errorsMax = todaysGatesJudge({ gates: [{ name: 'errors', errorRate: { max: '1%' } }] }, RELEASE_PLAN.intervalMs, RELEASE_PLAN.windowMs);

  test('today\'s errorRate max 1% rolls back a canary with 25% errors on its third consecutive failing round (90 s)', () => {
    expect(driveRelease(world(5, 0.05), RELEASE_PLAN, errorsMax)).toMatchObject({ result: 'rolledBack', atMs: 90_000 });
  });

  // Each step needs a passing round whose whole 60s window lies after the step began: the first such
  // round comes one interval after the step's minute (90 s), and the 50% step ends likewise (180 s).
  test('today\'s errorRate max 1% promotes a healthy canary at 0.1% errors once each step has a full window of evidence (180 s)', () => {
    const judge = todaysGatesJudge({ gates: [{ name: 'errors', errorRate: { max: '1%' } }] }, RELEASE_PLAN.intervalMs, RELEASE_PLAN.windowMs);
    expect(driveRelease(world(1, 0.001), RELEASE_PLAN, judge)).toMatchObject({ result: 'promoted', atMs: 180_000 });
  });

  const sequential = (gate: NonNullable<Parameters<typeof gatesJudge>[0]['gates'][number]['sequential']>) =>
    gatesJudge({ gates: [{ name: 'seq', sequential: gate }] }, RELEASE_PLAN.intervalMs, RELEASE_PLAN.windowMs);

  test('the sequential errors gate rolls back the 25%-errors canary at its first round (30 s)', () => {
    expect(driveRelease(world(5, 0.05), RELEASE_PLAN, sequential({ errorRate: {} }))).toMatchObject({ result: 'rolledBack', atMs: 30_000 });
  });

  test('the sequential errors gate promotes a healthy canary when each step\'s time is up (120 s), with no window to wait for', () => {
    expect(driveRelease(world(1, 0.001), RELEASE_PLAN, sequential({ errorRate: {} }))).toMatchObject({ result: 'promoted', atMs: 120_000 });
  });

  test('the sequential p99 gate rolls back a canary whose p99 doubled, and promotes a healthy one', () => {
    const slow: ReleaseScenario = { ...world(1, 0.001), kind: { name: 'slow', errorRatio: 1, p99Factor: 2 } };
    expect(driveRelease(slow, RELEASE_PLAN, sequential({ latency: { percentile: 99 } })).result).toBe('rolledBack');
    expect(driveRelease(world(1, 0.001), RELEASE_PLAN, sequential({ latency: { percentile: 99 } })).result).toBe('promoted');
  });

  test('a healthy canary much better than a stable with 5% errors passes its steps early on evidence (30 s each)', () => {
    const better: ReleaseScenario = { ...world(0.2, 0.05) };
    expect(driveRelease(better, RELEASE_PLAN, sequential({ errorRate: {} }))).toMatchObject({ result: 'promoted', atMs: 60_000 });
  });
});
