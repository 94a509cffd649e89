import { describe, expect, test } from '@jest/globals';
import { RoundScheduler, lookFirstAt } from '../../src/analysis/round-scheduler.js';
import type { AnalysisTarget } from '../../src/analysis/analysis-runner.js';
import type { AnalysisRound } from '../../src/core/analysis-rules.js';
import type { AnalysisPlan } from '../../src/core/plan.js';
import type { AnalysisProvider } from '../../src/controller/ports.js';
import { NOW } from './release-fixtures.js';
import { analysisPlan } from './analysis/analysis-fixtures.js';

const onService = (service: string): AnalysisTarget => ({
  namespace: 'ns', stableSubset: 'v1', canarySubset: 'v2',
  stable: { service, labels: { version: 'v1' }, identifiedBy: 'version' }, canary: { service, labels: { version: 'v2' }, identifiedBy: 'version' },
});
const T = onService('s');
const plan = (address: string): AnalysisPlan => ({ ...analysisPlan([{ name: 'e', errorRate: { max: '1%' } }]), address });

/** A provider whose rounds finish only when the test says so. */
class Gated implements AnalysisProvider {
  readonly started: string[] = [];
  private readonly gates = new Map<string, () => void>();
  run(p: AnalysisPlan, t: AnalysisTarget, at: Date): Promise<AnalysisRound> {
    const id = `${p.address}|${t.canary.service}|${at.getTime()}`;
    this.started.push(id);
    return new Promise((resolve) => this.gates.set(id, () => resolve({ evaluatedAt: at, measuredFrom: at, results: [], verdict: 'Pass' })));
  }
  preflight(): Promise<{ ok: true }> {
    return Promise.resolve({ ok: true });
  }
  finish(id: string): void {
    this.gates.get(id)?.();
  }
}
const tick = () => new Promise((r) => setImmediate(r));

describe('RoundScheduler', () => {
  test('a round runs beside the caller: undefined first, the result once finished, and the release is enqueued', async () => {
    const p = new Gated();
    const ready: string[] = [];
    const s = new RoundScheduler(p, { onReady: (k) => ready.push(k) });
    expect(s.round('ns/r', plan('http://a'), T, NOW)).toBeUndefined();
    expect(s.round('ns/r', plan('http://a'), T, NOW)).toBeUndefined();
    expect(p.started).toHaveLength(1);
    p.finish(`http://a|s|${NOW.getTime()}`);
    await tick();
    expect(ready).toEqual(['ns/r']);
    expect(s.round('ns/r', plan('http://a'), T, NOW)).toMatchObject({ verdict: 'Pass' });
  });

  test('onReady is told the finished round (its verdict says how soon to look), and nothing for a preflight', async () => {
    const p = new Gated();
    const ready: [string, string | undefined][] = [];
    const s = new RoundScheduler(p, { onReady: (k, round) => ready.push([k, round?.verdict]) });
    s.round('ns/r', plan('http://a'), T, NOW);
    s.preflight('ns/q', plan('http://b'), T);
    p.finish(`http://a|s|${NOW.getTime()}`);
    await tick();
    expect(ready.sort()).toEqual([['ns/q', undefined], ['ns/r', 'Pass']]);
  });

  test('onReady is told a failed round, and nothing when the provider broke its contract and threw', async () => {
    const ready: [string, string | undefined][] = [];
    const failing: AnalysisProvider = {
      run: (_p, t, at) => (t.canary.service === 'bad'
        ? Promise.resolve({ evaluatedAt: at, measuredFrom: at, results: [], verdict: 'Fail' })
        : Promise.reject(new Error('bug'))),
      preflight: () => Promise.resolve({ ok: true }),
    };
    const s = new RoundScheduler(failing, { onReady: (k, round) => ready.push([k, round?.verdict]) });
    s.round('ns/bad', plan('http://a'), onService('bad'), NOW);
    s.round('ns/broken', plan('http://b'), onService('broken'), NOW);
    await tick();
    expect(ready.sort()).toEqual([['ns/bad', 'Fail'], ['ns/broken', undefined]]);
    expect(s.pending).toBe(0);
  });

  test('a finished round is looked at first unless its windowed gates all passed', () => {
    const round = (verdict: AnalysisRound['verdict']): AnalysisRound => ({ evaluatedAt: NOW, measuredFrom: NOW, results: [], verdict });
    expect(lookFirstAt(round('Fail'))).toBe(true);
    expect(lookFirstAt(round('Error'))).toBe(true);
    expect(lookFirstAt(round('Inconclusive'))).toBe(true);
    expect(lookFirstAt(round('Pass'))).toBe(false);
    expect(lookFirstAt(undefined)).toBe(false);
  });

  test('a dead Prometheus occupies only its own slots: another address still gets its rounds', async () => {
    const p = new Gated();
    const s = new RoundScheduler(p, { concurrency: 4, perAddress: 2, onReady: () => undefined });
    for (let i = 0; i < 5; i++) s.round(`ns/dead-${i}`, plan('http://dead'), onService(`d${i}`), NOW);
    s.round('ns/alive', plan('http://alive'), onService('a'), NOW);
    await tick();
    expect(p.started.filter((x) => x.startsWith('http://dead'))).toHaveLength(2);
    expect(p.started.filter((x) => x.startsWith('http://alive'))).toHaveLength(1);
    expect(s.pending).toBe(6);
  });

  test('the total limit holds across addresses', async () => {
    const p = new Gated();
    const s = new RoundScheduler(p, { concurrency: 2, perAddress: 2, onReady: () => undefined });
    for (const a of ['http://a', 'http://b', 'http://c']) s.round(`ns/${a}`, plan(a), T, NOW);
    await tick();
    expect(p.started).toHaveLength(2);
    p.finish(p.started[0] as string);
    await tick();
    expect(p.started).toHaveLength(3);
  });

  test('one round per release at a time: a later one starts only once the earlier has finished, which is handed over meanwhile', async () => {
    const p = new Gated();
    const s = new RoundScheduler(p, { onReady: () => undefined });
    s.round('ns/r', plan('http://a'), T, NOW);
    const later = new Date(NOW.getTime() + 30_000);
    expect(s.round('ns/r', plan('http://a'), T, later)).toBeUndefined();
    await tick();
    expect(p.started).toEqual([`http://a|s|${NOW.getTime()}`]);
    p.finish(`http://a|s|${NOW.getTime()}`);
    await tick();
    // The earlier round finished: asking for the later one starts it and hands over the earlier result.
    expect(s.round('ns/r', plan('http://a'), T, later)).toMatchObject({ evaluatedAt: NOW });
    await tick();
    expect(p.started).toHaveLength(2);
    p.finish(`http://a|s|${later.getTime()}`);
    await tick();
    expect(s.round('ns/r', plan('http://a'), T, later)).toMatchObject({ evaluatedAt: later });
    s.forget('ns/r');
    expect(s.round('ns/r', plan('http://a'), T, later)).toBeUndefined();
  });

  test('a finished round the status records is let go; one it does not record yet, and one still running, are kept', async () => {
    const p = new Gated();
    const s = new RoundScheduler(p, { onReady: () => undefined });
    const before = new Date(NOW.getTime() - 30_000);
    s.round('ns/r', plan('http://a'), T, NOW);
    s.recorded('ns/r', NOW);
    expect(s.kept).toBe(1);
    p.finish(`http://a|s|${NOW.getTime()}`);
    await tick();
    s.recorded('ns/r', before);
    expect(s.round('ns/r', plan('http://a'), T, NOW)).toMatchObject({ evaluatedAt: NOW });
    expect(s.finishedRoundAt('ns/r')).toEqual(NOW);
    s.recorded('ns/r', NOW);
    expect(s.finishedRoundAt('ns/r')).toBeUndefined();
    // The next round starts as before, and nothing already recorded is handed over with it.
    const later = new Date(NOW.getTime() + 30_000);
    expect(s.round('ns/r', plan('http://a'), T, later)).toBeUndefined();
    expect(p.started).toEqual([`http://a|s|${NOW.getTime()}`, `http://a|s|${later.getTime()}`]);
  });

  test('a Prometheus that hangs builds no backlog: rounds asked every second while one hangs start nothing new', async () => {
    const p = new Gated();
    const s = new RoundScheduler(p, { onReady: () => undefined });
    for (let i = 0; i < 10; i++) s.round('ns/r', plan('http://dead'), T, new Date(NOW.getTime() + i * 1000));
    await tick();
    expect(p.started).toHaveLength(1);
    expect(s.pending).toBe(1);
  });

  test('a preflight result is reused for a while, then checked again', async () => {
    let now = 0;
    const p = new Gated();
    const s = new RoundScheduler(p, { preflightTtlMs: 10_000, now: () => now, onReady: () => undefined });
    expect(s.preflight('ns/r', plan('http://a'), T)).toBeUndefined();
    await tick();
    expect(s.preflight('ns/r', plan('http://a'), T)).toEqual({ ok: true });
    now = 10_001;
    // The old result is still given while the new check runs.
    expect(s.preflight('ns/r', plan('http://a'), T)).toEqual({ ok: true });
  });

  test('a preflight the provider can decide without a query (another release\'s recent answer) is given at once, and no check runs', async () => {
    const asked: number[] = [];
    let answered = false;
    const p: AnalysisProvider = {
      run: () => Promise.reject(new Error('no rounds here')),
      preflight: () => Promise.resolve({ ok: true as const }).finally(() => (answered = true)),
      preflightFromRecent: (_plan, _t, maxAgeMs) => (asked.push(maxAgeMs), answered ? { ok: true } : undefined),
    };
    const ready: string[] = [];
    const s = new RoundScheduler(p, { preflightTtlMs: 10_000, onReady: (k) => ready.push(k) });
    expect(s.preflight('ns/first', plan('http://a'), T)).toBeUndefined();
    await tick();
    expect(ready).toEqual(['ns/first']);
    expect(s.preflight('ns/second', plan('http://a'), T)).toEqual({ ok: true });
    expect(asked).toEqual([10_000, 10_000]);
    expect(s.pending).toBe(0);
    await tick();
    expect(ready).toEqual(['ns/first']);
    // Not kept as the release's own: once the provider has no recent answer, a check of its own runs.
    answered = false;
    expect(s.preflight('ns/second', plan('http://a'), T)).toBeUndefined();
    await tick();
    expect(ready).toEqual(['ns/first', 'ns/second']);
  });

  test('a kept preflight result is stale, not fresh, after the clock stepped back', async () => {
    let now = 100_000;
    let checks = 0;
    const p: AnalysisProvider = { run: () => Promise.reject(new Error('no rounds here')), preflight: () => (checks++, Promise.resolve({ ok: true as const })) };
    const s = new RoundScheduler(p, { preflightTtlMs: 10_000, now: () => now, onReady: () => undefined });
    s.preflight('ns/r', plan('http://a'), T);
    await tick();
    expect(checks).toBe(1);
    now -= 3_600_000;
    expect(s.preflight('ns/r', plan('http://a'), T)).toEqual({ ok: true });
    await tick();
    expect(checks).toBe(2);
  });
});

describe('RoundScheduler under a clock step and a Prometheus that never answers', () => {
  const failing = (started: number[]): AnalysisProvider => ({
    run: (_p, _t, at) => {
      started.push(at.getTime());
      return Promise.resolve({ evaluatedAt: at, measuredFrom: at, results: [], verdict: 'Fail' as const });
    },
    preflight: () => Promise.resolve({ ok: true as const }),
  });

  test('after the clock steps back an hour, each new round is run and answered', async () => {
    const started: number[] = [];
    const s = new RoundScheduler(failing(started), { onReady: () => undefined });
    const p = plan('http://a');
    s.round('ns/r', p, T, NOW);
    await tick();
    let answered = 0;
    for (let k = 1; k <= 20; k++) {
      const t = new Date(NOW.getTime() - 3_600_000 + k * 30_000);
      s.round('ns/r', p, T, t);
      await tick();
      if (s.round('ns/r', p, T, t)) answered++;
    }
    expect({ started: started.length, answered }).toEqual({ started: 21, answered: 20 });
  });

  test('a Prometheus that never answers gets one round per release, not one per boundary', () => {
    const hanging: AnalysisProvider = { run: () => new Promise<AnalysisRound>(() => undefined), preflight: () => Promise.resolve({ ok: true as const }) };
    const s = new RoundScheduler(hanging, { onReady: () => undefined });
    const p = { ...plan('http://a'), intervalMs: 1000 };
    for (let k = 0; k < 600; k++) s.round('ns/r', p, T, new Date(NOW.getTime() + k * 1000));
    expect(s.pending).toBe(1);
  });
});
