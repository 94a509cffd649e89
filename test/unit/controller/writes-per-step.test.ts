// What one release costs the API server: the benchmark's release (bench/scale:
// steps 10% / 50% / 100 of 30s, rounds every 30s over 30s) run from its
// creation to Succeeded through the real Reconciler and RoundScheduler, looked
// at when it asked to be, when a round finished, and after each of its own
// writes (as the watch events of those writes make the controller do).
import { expect, test } from '@jest/globals';
import { pino } from 'pino';
import { GateVerdict } from '../../../src/api/analysis-status.js';
import type { CanaryReleaseStatus } from '../../../src/api/status.js';
import { RoundScheduler } from '../../../src/analysis/round-scheduler.js';
import type { AnalysisTarget } from '../../../src/analysis/analysis-runner.js';
import type { AnalysisRound } from '../../../src/core/analysis-rules.js';
import type { AnalysisPlan } from '../../../src/core/plan.js';
import type { AnalysisProvider } from '../../../src/controller/ports.js';
import { Reconciler } from '../../../src/controller/reconciler.js';
import { NOW, NS, baseSpec } from '../release-fixtures.js';
import { FakeProbe, KEY, MemoryEventRecorder, MemoryReleaseStore, MemoryTrafficRouter } from '../fakes/memory-ports.js';

/** Rounds that pass, answered at once. */
class Passing implements AnalysisProvider {
  run(p: AnalysisPlan, _t: AnalysisTarget, at: Date): Promise<AnalysisRound> {
    return Promise.resolve({ evaluatedAt: at, measuredFrom: new Date(at.getTime() - p.windowMs), verdict: GateVerdict.Pass,
      results: [{ name: 'errors', query: 'q', threshold: '<= 5%', verdict: GateVerdict.Pass, message: 'error rate 0.5% within <= 5%' }] });
  }
  preflight(): Promise<{ ok: true }> {
    return Promise.resolve({ ok: true });
  }
}

/** The same, and it knows the address answered another release's preflight a moment ago. */
class PassingAnsweredRecently extends Passing {
  preflightFromRecent(): { ok: true } {
    return { ok: true };
  }
}

/** Preflights answered `afterMs` after they were asked (on the test's clock). */
class SlowPreflight extends Passing {
  constructor(private readonly afterMs: number) { super(); }
  override preflight(): Promise<{ ok: true }> {
    const due = clock() + this.afterMs;
    return new Promise((resolve) => {
      const check = () => (clock() >= due ? resolve({ ok: true }) : setImmediate(check));
      check();
    });
  }
}

/** The running test's clock. */
let clock = () => 0;

const tick = () => new Promise((r) => setImmediate(r));

/** Runs the release in 100 ms ticks; returns every API write, with the status position of each status write. */
/** The benchmark's release; a test may give other steps, interval and window. */
interface Shape { steps: { weight: number; duration?: string }[]; interval: string; window: string }
const BENCH_SHAPE: Shape = { steps: [{ weight: 10, duration: '30s' }, { weight: 50, duration: '30s' }, { weight: 100 }], interval: '30s', window: '30s' };

async function run(createdAtMs: number, seconds: number, provider: AnalysisProvider = new Passing(), shape: Shape = BENCH_SHAPE, stamped = false): Promise<{ writes: string[]; final: CanaryReleaseStatus; rounds: RoundScheduler; looksHoldingARecordedRound: number; stepsAt: number[] }> {
  let now = createdAtMs;
  clock = () => now;
  const log: string[] = [];
  const store = new MemoryReleaseStore(log);
  const ready = new Set<string>();
  const rounds = new RoundScheduler(provider, { onReady: (k) => ready.add(k), now: () => now });
  const reconciler = new Reconciler({
    store, router: new MemoryTrafficRouter(log), probe: new FakeProbe(), events: new MemoryEventRecorder(log),
    log: pino({ enabled: false }), analysis: rounds, clock: () => new Date(now),
  });
  store.put({
    apiVersion: 'canary-operator.dev/v1alpha1', kind: 'CanaryRelease',
    metadata: { name: 'reviews-canary', namespace: NS, generation: 1, uid: 'u', ...(stamped ? { creationTimestamp: new Date(createdAtMs) } : {}) },
    spec: { ...baseSpec(), steps: shape.steps,
      analysis: { prometheus: { address: 'http://prom:9090' }, interval: shape.interval, window: shape.window, gates: [{ name: 'errors', errorRate: { max: '5%' } }] } },
  });
  const writes: string[] = [];
  let looksHoldingARecordedRound = 0;
  /** When (ms after creation) each traffic move was written. */
  const stepsAt: number[] = [];
  let due = now;
  for (let t = 0; t < seconds * 10; t++, now += 100) {
    await tick();
    await tick();
    if (now < due && !ready.has(KEY)) continue;
    ready.delete(KEY);
    const before = log.length;
    const r = await reconciler.reconcile(KEY);
    const st = store.stored().status as CanaryReleaseStatus;
    for (const w of log.slice(before)) writes.push(w === 'writeStatus' ? `writeStatus ${st.phase}/${st.currentStep}` : w);
    if (log.slice(before).some((w) => w.startsWith('setCanaryPercent'))) stepsAt.push(now - createdAtMs);
    // A look that leaves a finished round kept although the status it leaves records it.
    const kept = rounds.finishedRoundAt(KEY);
    if (kept && st.analysis && kept.getTime() <= Date.parse(st.analysis.evaluatedAt)) looksHoldingARecordedRound++;
    // Its own writes come back as watch events: a look soon after each.
    due = Math.min(now + (r.requeueAfterMs ?? 1e12), log.length > before ? now + 300 : Number.POSITIVE_INFINITY);
  }
  return { writes, final: store.stored().status as CanaryReleaseStatus, rounds, looksHoldingARecordedRound, stepsAt };
}

test.each([
  ['created 18.7 s into an interval', 18_700],
  ['created just before a round', 29_900],
  ['created on a round boundary', 30_000],
])('one status write per transition, one Event per transition, from creation to Succeeded (%s)', async (_, offset) => {
  const { writes, final, rounds, looksHoldingARecordedRound } = await run(NOW.getTime() + offset, 200);
  expect(final.phase).toBe('Succeeded');
  // A finished round is let go by the status write that records it, not held until the next round
  // (about 1.8 KiB a release at N = 1,000, for most of each interval).
  expect(looksHoldingARecordedRound).toBe(0);
  // Nothing of its rounds is kept once it ended (about 4.6 KiB each at N = 1,000; bench/scale).
  expect(rounds.kept).toBe(0);
  expect(writes).toEqual([
    'addFinalizer', 'writeStatus Pending/0', 'event:Started',
    'writeStatus Progressing/1', 'setCanaryPercent:10', 'event:StepAdvanced',
    'writeStatus Progressing/2', 'setCanaryPercent:50', 'event:StepAdvanced',
    'writeStatus Succeeded/3', 'setCanaryPercent:100', 'event:Promoted',
    // The finished release records that its last write reached the route (own-write.ts: finalWriteSettled).
    'writeStatus Succeeded/3',
  ]);
});

// The object's creation time bounds how long a new release may stay unwritten while its preflight is asked.
test('a release created a moment ago writes no Pending status while its preflight is asked: its first status write is its first step', async () => {
  const { writes, final } = await run(NOW.getTime() + 18_700, 200, new Passing(), BENCH_SHAPE, true);
  expect(final.phase).toBe('Succeeded');
  expect(writes).toEqual([
    'addFinalizer',
    'writeStatus Progressing/1', 'setCanaryPercent:10', 'event:Started',
    'writeStatus Progressing/2', 'setCanaryPercent:50', 'event:StepAdvanced',
    'writeStatus Succeeded/3', 'setCanaryPercent:100', 'event:Promoted',
    'writeStatus Succeeded/3',
  ]);
});

test('a preflight not answered within 2 s of the creation is said in status (Pending), then the first step follows the answer', async () => {
  const { writes, final } = await run(NOW.getTime() + 18_700, 200, new SlowPreflight(5_000), BENCH_SHAPE, true);
  expect(final.phase).toBe('Succeeded');
  expect(writes.slice(0, 5)).toEqual(['addFinalizer', 'writeStatus Pending/0', 'event:Started', 'writeStatus Progressing/1', 'setCanaryPercent:10']);
});

// A burst of new releases: only the first waits for the test query; the ones
// created after it take their first step in their first reconcile.
test('a release created just after another one\'s preflight writes no Pending status: its first step comes in its first look', async () => {
  const { writes, final } = await run(NOW.getTime() + 18_700, 200, new PassingAnsweredRecently());
  expect(final.phase).toBe('Succeeded');
  // One Event for the start and the first step, decided together.
  expect(writes.slice(0, 6)).toEqual(['addFinalizer', 'writeStatus Progressing/1', 'setCanaryPercent:10', 'event:Started', 'writeStatus Progressing/2', 'setCanaryPercent:50']);
  expect(writes.filter((w) => w.startsWith('writeStatus'))).toEqual(['writeStatus Progressing/1', 'writeStatus Progressing/2', 'writeStatus Succeeded/3', 'writeStatus Succeeded/3']);
});

// Rounds every 10 s over 10 s windows, steps of 25 s. A round that passes after a pass changes only its times
// and values, so it is not written (round-noise.ts) and stays kept: when the step's time is up between two
// rounds, that round (its window inside the step) is the evidence that the step may end. Let go, the step
// would wait for the next round.
test('a passing round that was not written still lets its step end when the step\'s time is up, between rounds', async () => {
  const shape: Shape = { steps: [{ weight: 10, duration: '25s' }, { weight: 50, duration: '25s' }, { weight: 100 }], interval: '10s', window: '10s' };
  const { final, stepsAt } = await run(NOW.getTime() + 3_000, 200, new PassingAnsweredRecently(), shape);
  expect(final.phase).toBe('Succeeded');
  expect(stepsAt).toHaveLength(3);
  const [first, second, third] = stepsAt as [number, number, number];
  expect(second - first).toBeGreaterThanOrEqual(25_000);
  expect(second - first).toBeLessThan(26_000);
  expect(third - second).toBeLessThan(26_000);
});
