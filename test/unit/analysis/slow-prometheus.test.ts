// A Prometheus slower than the analysis interval: rounds must still count, and
// Prometheus errors must still reach prometheusErrorTimeout. Reconciler, real
// RoundScheduler and a provider whose rounds answer after a set delay.
import { expect, test } from '@jest/globals';
import { pino } from 'pino';
import { GateVerdict } from '../../../src/api/analysis-status.js';
import { FINALIZER } from '../../../src/api/names.js';
import type { CanaryReleaseStatus } from '../../../src/api/status.js';
import { RoundScheduler } from '../../../src/analysis/round-scheduler.js';
import type { AnalysisTarget } from '../../../src/analysis/analysis-runner.js';
import type { AnalysisRound } from '../../../src/core/analysis-rules.js';
import { roundOffsetMs, type AnalysisPlan } from '../../../src/core/plan.js';
import type { AnalysisProvider } from '../../../src/controller/ports.js';
import { Reconciler } from '../../../src/controller/reconciler.js';
import { WatchedServices } from '../../../src/analysis/watched-services.js';
import { NOW, NS, baseSpec } from '../release-fixtures.js';
import { FakeProbe, KEY, MemoryEventRecorder, MemoryReleaseStore, MemoryTrafficRouter } from '../fakes/memory-ports.js';

/** Rounds that answer `verdict` after `latencyMs` of simulated time. */
class Slow implements AnalysisProvider {
  private pending: { due: number; resolve: () => void }[] = [];
  constructor(private readonly clock: () => number, private readonly latencyMs: number, private readonly verdict: GateVerdict) {}
  /** The Services each round was told to read. */
  readonly watched: (readonly string[] | undefined)[] = [];
  run(p: AnalysisPlan, t: AnalysisTarget, at: Date): Promise<AnalysisRound> {
    this.watched.push(t.watched);
    const verdict = this.verdict;
    const message = { [GateVerdict.Error]: 'Prometheus did not answer within the timeout', [GateVerdict.Pass]: 'error rate 0.5% <= 1%' }[verdict as string] ?? 'error rate 50% > 1%';
    return new Promise((resolve) => this.pending.push({
      due: this.clock() + this.latencyMs,
      resolve: () => resolve({ evaluatedAt: at, measuredFrom: new Date(at.getTime() - p.windowMs), verdict,
        results: [{ name: 'errors', query: 'q', threshold: '<= 1%', verdict, message }] }),
    }));
  }
  preflight(): Promise<{ ok: true }> { return Promise.resolve({ ok: true }); }
  answer(now: number): void {
    const ready = this.pending.filter((x) => x.due <= now);
    this.pending = this.pending.filter((x) => x.due > now);
    for (const r of ready) r.resolve();
  }
}
const tick = () => new Promise((r) => setImmediate(r));

/** Runs one release second by second, reconciling when it asked to be looked at again or a round finished. */
interface Simulation { latencyMs: number; seconds: number; verdict: GateVerdict; interval: string; timeout: string; log?: string[]; watched?: WatchedServices; rounds?: (readonly string[] | undefined)[] }
async function simulate(o: Simulation): Promise<CanaryReleaseStatus> {
  let now = NOW.getTime();
  const log: string[] = o.log ?? [];
  const store = new MemoryReleaseStore(log);
  const provider = new Slow(() => now, o.latencyMs, o.verdict);
  const ready = new Set<string>();
  const rounds = new RoundScheduler(provider, { onReady: (k) => ready.add(k), now: () => now });
  const reconciler = new Reconciler({
    store, router: new MemoryTrafficRouter(log), probe: new FakeProbe(), events: new MemoryEventRecorder(log),
    log: pino({ enabled: false }), analysis: rounds, watched: o.watched, clock: () => new Date(now),
  });
  store.put({
    apiVersion: 'canary-operator.dev/v1alpha1', kind: 'CanaryRelease',
    metadata: { name: 'reviews-canary', namespace: NS, generation: 1, uid: 'u', finalizers: [FINALIZER] },
    spec: { ...baseSpec(), analysis: { prometheus: { address: 'http://prom:9090', timeout: o.timeout }, interval: o.interval, window: '10s', failureLimit: 2,
      prometheusErrorTimeout: '5m', inconclusiveTimeout: '5m', gates: [{ name: 'errors', errorRate: { max: '1%' } }] } },
  });
  let due = now;
  for (let s = 0; s < o.seconds; s++) {
    provider.answer(now);
    await tick();
    await tick();
    if (now >= due || ready.has(KEY)) {
      ready.delete(KEY);
      const r = await reconciler.reconcile(KEY);
      due = now + (r.requeueAfterMs ?? 1e12);
    }
    now += 1000;
  }
  o.rounds?.push(...provider.watched);
  return store.stored().status as CanaryReleaseStatus;
}

test('control: failing rounds answering in 2s roll the canary back', async () => {
  expect((await simulate({ latencyMs: 2000, seconds: 120, verdict: GateVerdict.Fail, interval: '10s', timeout: '20s' })).phase).toBe('RolledBack');
});

test('failing rounds answering in 11s, slower than the 10s interval, still count: the canary is rolled back', async () => {
  const st = await simulate({ latencyMs: 11_000, seconds: 5 * 60, verdict: GateVerdict.Fail, interval: '10s', timeout: '20s' });
  expect({ phase: st.phase, weight: st.canaryWeight }).toEqual({ phase: 'RolledBack', weight: 0 });
});

test('a Prometheus that takes its whole 60s timeout on every round reaches prometheusErrorTimeout (5m) and rolls back', async () => {
  const st = await simulate({ latencyMs: 60_000, seconds: 15 * 60, verdict: GateVerdict.Error, interval: '30s', timeout: '60s' });
  expect({ phase: st.phase, weight: st.canaryWeight }).toEqual({ phase: 'RolledBack', weight: 0 });
});

test('passing rounds every 10s write the status on changes only, not once per round (the round noise is left unwritten)', async () => {
  const log: string[] = [];
  const st = await simulate({ latencyMs: 0, seconds: 4 * 60, verdict: GateVerdict.Pass, interval: '10s', timeout: '5s', log });
  expect(st.phase).toBe('Succeeded');
  const writes = log.filter((l) => l === 'writeStatus').length;
  // Steps of 1m and 2m: about 18 passing rounds; the writes are the starts, step changes, first verdicts and the promotion.
  expect(writes).toBeLessThanOrEqual(8);
  expect(writes).toBeGreaterThanOrEqual(3);
});

test('every round is told the Services of the running releases of its round slot, and a release that ended leaves the list', async () => {
  const watched = new WatchedServices();
  const slot = roundOffsetMs(10_000, 'u');
  const otherSlot = (slot + 1000) % 10_000;
  watched.set('other/ratings-canary', ['ratings'], slot);
  watched.set('other/details-canary', ['details'], otherSlot);
  const rounds: (readonly string[] | undefined)[] = [];
  const st = await simulate({ latencyMs: 0, seconds: 4 * 60, verdict: GateVerdict.Pass, interval: '10s', timeout: '5s', watched, rounds });
  expect(st.phase).toBe('Succeeded');
  expect(rounds.length).toBeGreaterThan(10);
  expect(new Set(rounds.map((w) => w?.join(',')))).toEqual(new Set(['ratings,reviews']));
  expect(watched.list(slot)).toEqual(['ratings']);
  expect(watched.list(otherSlot)).toEqual(['details']);
});
