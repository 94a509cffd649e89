import { describe, expect, test } from '@jest/globals';
import type { AnalysisSpec, Gate } from '../../../src/api/analysis-spec.js';
import { GateVerdict } from '../../../src/api/analysis-status.js';
import { AnalysisRunner, type AnalysisTarget } from '../../../src/analysis/analysis-runner.js';
import { CachedQuerier } from '../../../src/analysis/prometheus/cached-querier.js';
import type { MetricsQuerier, QueryResult, Sample } from '../../../src/analysis/prometheus/client.js';
import { latencyQuery, requestCountsQuery } from '../../../src/analysis/prometheus/queries.js';
import { errorRateQuery, latencyGateQuery } from '../../../src/analysis/release-queries.js';
import { resolveAnalysis, type AnalysisPlan } from '../../../src/core/plan.js';
import { NOW, NS } from '../release-fixtures.js';
import { FakeQuerier, PROM, analysisSpec, latencySeries, requestSeries, type CannedAnswers } from './analysis-fixtures.js';

const ERRORS: Gate = { name: 'errors', errorRate: { max: '1%' } };
const ERRORS_VS_STABLE: Gate = { name: 'errors-vs-stable', errorRate: { maxIncreaseOverStable: '1%' } };
const P99: Gate = { name: 'p99', latency: { percentile: 99, maxMs: 500 } };
const P99_VS_STABLE: Gate = { name: 'p99-vs-stable', latency: { percentile: 99, maxIncreaseOverStableMs: 100 } };
const P50: Gate = { name: 'p50', latency: { percentile: 50, maxMs: 100 } };
const custom = (name: string, query = 'sum(rate(app_failures_total{service="{{service}}",version="{{version}}"}[{{window}}]))'): Gate => ({ name, query, max: 5 });

/** Subset names differ from the version label values, so the tests see which one the queries use. */
const target = (service = 'reviews', labels: { stable?: Record<string, string>; canary?: Record<string, string> } = {}, watched?: string[]): AnalysisTarget => ({
  namespace: NS,
  stableSubset: 'stable',
  canarySubset: 'canary',
  stable: { service, labels: labels.stable ?? { app: service, version: 'v1' }, identifiedBy: 'version' },
  canary: { service, labels: labels.canary ?? { app: service, version: 'v2' }, identifiedBy: 'version' },
  watched,
});
/** The grouped queries of a round for the reviews release alone: they read only its Service's series. */
const ONLY = ['reviews'];
const counts = (window: string) => requestCountsQuery(window, 'destination', ONLY);
const latency = (p: number, window: string) => latencyQuery(p, window, 'destination', ONLY);

/** Istio series for several services: v1 gets 1000 requests with 5 503s, v2 gets 200 with 10 500s (5%). */
function requestsFor(services: string[]): Sample[] {
  return services.flatMap((svc) => [
    requestSeries(svc, 'v1', '200', 995),
    requestSeries(svc, 'v1', '503', 5),
    requestSeries(svc, 'v2', '200', 190),
    requestSeries(svc, 'v2', '500', 10),
    requestSeries(svc, 'v2', '404', 0),
  ]);
}
const latencyFor = (services: string[], canary: number, stable: number): Sample[] =>
  services.flatMap((svc) => [latencySeries(svc, 'v1', stable), latencySeries(svc, 'v2', canary)]);

const ANSWERS: CannedAnswers = {
  // A second service and another namespace's reviews, to show the runner picks only its release's series.
  requests: [...requestsFor(['reviews', 'ratings']), requestSeries('reviews', 'v2', '500', 999, 'other-ns')],
  latency: { '0.99': latencyFor(['reviews', 'ratings'], 180, 120), '0.5': latencyFor(['reviews'], 40, 30) },
};

/** The runner as the operator calls it: the spec resolved to a plan (with the operator's default address), evaluated at NOW. */
function runnerOver(querier: MetricsQuerier, defaultAddress?: string) {
  const real = new AnalysisRunner(querier);
  const plan = (spec: AnalysisSpec) => resolveAnalysis(spec, { prometheusAddress: defaultAddress }) as AnalysisPlan;
  return {
    run: (spec: AnalysisSpec, t: AnalysisTarget) => real.run(plan(spec), t, NOW),
    measure: (spec: AnalysisSpec, t: AnalysisTarget) => real.measure(plan(spec), t, NOW),
    preflight: (spec: AnalysisSpec, t: AnalysisTarget) => real.preflight(plan(spec), t),
  };
}

function setup(answers: CannedAnswers = ANSWERS, defaultAddress: string | undefined = undefined) {
  const fake = new FakeQuerier(answers);
  return { fake, runner: runnerOver(fake, defaultAddress) };
}

const queriesFor = async (gates: Gate[], extra: Partial<AnalysisSpec> = {}) => {
  const { fake, runner } = setup();
  await runner.run(analysisSpec(gates, extra), target());
  return fake.calls.map((c) => c.promql);
};

describe('queries per round', () => {
  test('errorRate-only gates send one query, the grouped request counts', async () => {
    expect(await queriesFor([ERRORS, ERRORS_VS_STABLE])).toEqual([counts('1m')]);
  });

  test('latency gates add one query per distinct percentile', async () => {
    const sent = await queriesFor([ERRORS, P99, P50]);
    expect(sent).toHaveLength(3);
    expect(new Set(sent)).toEqual(new Set([counts('1m'), latency(99, '1m'), latency(50, '1m')]));
  });

  test('two latency gates with the same percentile share one query', async () => {
    const sent = await queriesFor([ERRORS, P99, P99_VS_STABLE]);
    expect(sent).toHaveLength(2);
    expect(new Set(sent)).toEqual(new Set([counts('1m'), latency(99, '1m')]));
  });

  test('a latency-only spec still sends the request counts (minRequests needs them)', async () => {
    expect(new Set(await queriesFor([P99]))).toEqual(new Set([counts('1m'), latency(99, '1m')]));
  });

  test('each custom gate adds one query, rendered for the release', async () => {
    const sent = await queriesFor([ERRORS, P99, custom('a'), custom('b', 'sum(x{v="{{stableVersion}}"})')]);
    expect(sent).toHaveLength(4);
    expect(sent).toContain('sum(rate(app_failures_total{service="reviews",version="v2"}[1m]))');
    expect(sent).toContain('sum(x{v="v1"})');
  });

  test('custom-only gates send only their own queries', async () => {
    // {{window}} is written in Prometheus' canonical form, so equal windows give equal queries.
    expect(await queriesFor([custom('a'), custom('b', 'sum(x{ns="{{namespace}}"}[{{window}}])')], { window: '90s' })).toEqual([
      'sum(rate(app_failures_total{service="reviews",version="v2"}[1m30s]))',
      `sum(x{ns="${NS}"}[1m30s])`,
    ]);
  });

  test('uses spec.window, the address, the timeout (default 5s) and evaluates at the round time', async () => {
    const { fake, runner } = setup();
    await runner.run(analysisSpec([ERRORS]), target());
    expect(fake.calls).toEqual([{ address: PROM, promql: counts('1m'), timeoutMs: 5000, at: NOW }]);

    const other = setup();
    await other.runner.run(analysisSpec([ERRORS], { window: '5m', interval: '1m', prometheus: { address: 'http://p:9090', timeout: '2s' } }), target());
    expect(other.fake.calls).toEqual([{ address: 'http://p:9090', promql: counts('5m'), timeoutMs: 2000, at: NOW }]);
  });
});

describe('with a CachedQuerier in front', () => {
  const GATES = [ERRORS, ERRORS_VS_STABLE, P99, P99_VS_STABLE, P50];
  const services = (n: number) => Array.from({ length: n }, (_, i) => `svc-${i}`);

  /** Runs one round for n releases (different services, same interval) and returns the queries sent to Prometheus. */
  async function oneRound(n: number): Promise<{ sent: number; verdicts: GateVerdict[] }> {
    const names = services(n);
    const inner = new FakeQuerier({ requests: requestsFor(names), latency: { '0.99': latencyFor(names, 180, 120), '0.5': latencyFor(names, 40, 30) } });
    const cache = new CachedQuerier(inner, { ttlMs: 60_000, now: () => NOW.getTime() });
    const runner = runnerOver(cache);
    // Each round is handed every running release's Services (WatchedServices), so all share one query string.
    const rounds = await Promise.all(names.map((svc) => runner.run(analysisSpec(GATES), target(svc, {}, names))));
    expect(cache.queriesSent).toBe(inner.calls.length);
    return { sent: inner.calls.length, verdicts: rounds.map((r) => r.verdict) };
  }

  test('1 release sends one query per distinct grouped query', async () => {
    expect((await oneRound(1)).sent).toBe(3);
  });

  test('10 releases send the same number of queries as 1', async () => {
    const one = await oneRound(1);
    const ten = await oneRound(10);
    expect(ten.sent).toBe(one.sent);
  });

  test('each of the 10 releases still gets its own series (all evaluated, none erred)', async () => {
    const { verdicts } = await oneRound(10);
    expect(verdicts).toHaveLength(10);
    expect(verdicts.every((v) => v !== GateVerdict.Error && v !== GateVerdict.Inconclusive)).toBe(true);
  });
});

describe('the series the grouped queries read', () => {
  test('only the Services of running releases: the one the release gives, with its own added if missing', async () => {
    const { fake, runner } = setup();
    await runner.run(analysisSpec([ERRORS]), target('reviews', {}, ['details', 'ratings', 'reviews']));
    await runner.run(analysisSpec([ERRORS]), target('reviews', {}, ['details', 'ratings']));
    expect(fake.calls.map((c) => c.promql)).toEqual([
      requestCountsQuery('1m', 'destination', ['details', 'ratings', 'reviews']),
      requestCountsQuery('1m', 'destination', ['details', 'ratings', 'reviews']),
    ]);
    expect(fake.calls[0]?.promql).toContain('istio_requests_total{reporter="destination",destination_service_name=~"details|ratings|reviews"}');
  });

  test('the names are regex-escaped inside the PromQL string', () => {
    expect(requestCountsQuery('1m', 'waypoint', ['a.b', 'c'])).toContain('{reporter="waypoint",destination_service_name=~"a\\\\.b|c"}');
  });
});

describe('measurements and results', () => {
  test("picks the release's own series: 10 of 200 canary requests (5%), stable 5 of 1000 (0.5%)", async () => {
    const { runner } = setup();
    const m = await runner.measure(analysisSpec([ERRORS]), target());
    expect(m.requests).toEqual({ ok: true, value: { canary: { total: 200, errors: 10 }, stable: { total: 1000, errors: 5 } } });
  });

  test('picks the latency of the release per gate', async () => {
    const { runner } = setup();
    const m = await runner.measure(analysisSpec([P99, P50]), target());
    expect(m.latency).toEqual({ p99: { ok: true, value: { canary: 180, stable: 120 } }, p50: { ok: true, value: { canary: 40, stable: 30 } } });
  });

  test('run evaluates the gates at the round time, with the verdict and the window it measured', async () => {
    const { runner } = setup();
    const round = await runner.run(analysisSpec([ERRORS, P99]), target());
    expect(round.evaluatedAt).toEqual(NOW);
    expect(round.measuredFrom).toEqual(new Date(NOW.getTime() - 60_000));
    expect(round.verdict).toBe(GateVerdict.Fail);
    expect(round.results.map((r) => [r.name, r.verdict, r.value])).toEqual([['errors', GateVerdict.Fail, 5], ['p99', GateVerdict.Pass, 180]]);
    expect(round.results[0]?.message).toContain('error rate 5% > 1%');
  });

  test("status shows each gate's per-release PromQL for the canary version", async () => {
    const { runner } = setup();
    const round = await runner.run(analysisSpec([ERRORS, P99, custom('c')]), target());
    const v2 = { namespace: NS, service: 'reviews', version: 'v2' };
    expect(round.results.map((r) => r.query)).toEqual([
      errorRateQuery(v2, '1m'),
      latencyGateQuery(v2, 99, '1m'),
      'sum(rate(app_failures_total{service="reviews",version="v2"}[1m]))',
    ]);
  });

  test('a custom query returning one value is measured; no series is Inconclusive; several series is an Error', async () => {
    const answers = (samples: Sample[]): CannedAnswers => ({ custom: (): QueryResult => ({ ok: true, resultType: 'vector', samples }) });
    const one = await setup(answers([{ labels: {}, value: 2 }])).runner.run(analysisSpec([custom('c')]), target());
    expect(one.results[0]).toMatchObject({ verdict: GateVerdict.Pass, value: 2 });
    const none = await setup(answers([])).runner.run(analysisSpec([custom('c')]), target());
    expect(none.results[0]?.verdict).toBe(GateVerdict.Inconclusive);
    const several = await setup(answers([{ labels: { a: '1' }, value: 1 }, { labels: { a: '2' }, value: 2 }])).runner.run(analysisSpec([custom('c')]), target());
    expect(several.results[0]?.verdict).toBe(GateVerdict.Error);
    expect(several.results[0]?.message).toContain('returned 2 series');
  });

  test('no latency series for the canary (NaN) is Inconclusive', async () => {
    const { runner } = setup({ ...ANSWERS, latency: { '0.99': [latencySeries('reviews', 'v1', 120), latencySeries('reviews', 'v2', Number.NaN)] } });
    const round = await runner.run(analysisSpec([P99]), target());
    expect(round.results[0]).toMatchObject({ verdict: GateVerdict.Inconclusive, message: 'p99: no p99 latency data for canary in 1m' });
  });

  test('no traffic for the canary version is Inconclusive, naming the count and the need', async () => {
    const { runner } = setup({ requests: requestsFor(['ratings']) });
    const round = await runner.run(analysisSpec([ERRORS]), target());
    expect(round.verdict).toBe(GateVerdict.Inconclusive);
    expect(round.results[0]?.message).toBe('errors: only 0 canary requests in the last 1m (need 50)');
  });

  test('a Prometheus error becomes Error results carrying its message, not an exception', async () => {
    const down: QueryResult = { ok: false, kind: 'unreachable', message: `cannot reach Prometheus at ${PROM}: ECONNREFUSED` };
    const { runner } = setup({ requests: down, latency: { '0.99': down }, custom: () => down });
    const round = await runner.run(analysisSpec([ERRORS, P99, custom('c')]), target());
    expect(round.verdict).toBe(GateVerdict.Error);
    expect(round.results.map((r) => r.verdict)).toEqual([GateVerdict.Error, GateVerdict.Error, GateVerdict.Error]);
    for (const r of round.results) expect(r.message).toContain('ECONNREFUSED');
  });
});

describe('version labels', () => {
  test('come from the subset labels[versionLabel], not the subset names', async () => {
    const { fake, runner } = setup();
    const m = await runner.measure(analysisSpec([ERRORS, custom('c')]), target());
    expect(m.requests.ok).toBe(true);
    expect(fake.calls.map((c) => c.promql)).toContain('sum(rate(app_failures_total{service="reviews",version="v2"}[1m]))');
  });

  test('honour spec.analysis.versionLabel', async () => {
    const { fake, runner } = setup({ requests: [requestSeries('reviews', 'build-7', '200', 100), requestSeries('reviews', 'build-6', '200', 500)] });
    const t = target('reviews', { stable: { track: 'build-6', version: 'x' }, canary: { track: 'build-7', version: 'y' } });
    const round = await runner.run(analysisSpec([ERRORS, custom('c')], { versionLabel: 'track' }), t);
    expect(round.results[0]).toMatchObject({ verdict: GateVerdict.Pass, value: 0 });
    expect(round.results[0]?.query).toContain('destination_version="build-7"');
    expect(fake.calls.map((c) => c.promql)).toContain('sum(rate(app_failures_total{service="reviews",version="build-7"}[1m]))');
  });

  test.each([
    ['canary', { canary: { app: 'reviews' } }],
    ['stable', { stable: { app: 'reviews' } }],
  ] as const)('a %s subset without the label gives Error results naming spec.analysis.versionLabel, and sends nothing', async (subset, extra) => {
    const { fake, runner } = setup();
    const round = await runner.run(analysisSpec([ERRORS, P99, custom('c')]), target('reviews', extra));
    expect(round.verdict).toBe(GateVerdict.Error);
    expect(round.results.map((r) => r.verdict)).toEqual([GateVerdict.Error, GateVerdict.Error, GateVerdict.Error]);
    for (const r of round.results) {
      expect(r.message).toContain('spec.analysis.versionLabel');
      expect(r.message).toContain(`DestinationRule subset "${subset}" has no "version" label`);
    }
    expect(fake.calls).toEqual([]);
  });
});

describe('Prometheus address', () => {
  test('missing in the spec and without an operator default gives Error results and sends nothing', async () => {
    const { fake, runner } = setup(ANSWERS, undefined);
    const round = await runner.run({ gates: [ERRORS, P99, custom('c')] }, target());
    expect(round.verdict).toBe(GateVerdict.Error);
    expect(round.results.every((r) => r.verdict === GateVerdict.Error && r.message.includes('no Prometheus address'))).toBe(true);
    expect(fake.calls).toEqual([]);
  });

  test("the operator default is used when the spec names none", async () => {
    const { fake, runner } = setup(ANSWERS, 'http://default-prometheus:9090');
    await runner.run({ gates: [ERRORS] }, target());
    expect(fake.calls.map((c) => c.address)).toEqual(['http://default-prometheus:9090']);
  });

  test("the spec's address wins over the operator default", async () => {
    const { fake, runner } = setup(ANSWERS, 'http://default-prometheus:9090');
    await runner.run(analysisSpec([ERRORS]), target());
    expect(fake.calls.map((c) => c.address)).toEqual([PROM]);
  });
});

describe('preflight: checks made before any traffic moves', () => {
  test('passes when Prometheus answers a test query and both subsets carry the version label', async () => {
    const { fake, runner } = setup();
    expect(await runner.preflight(analysisSpec([ERRORS]), target())).toEqual({ ok: true });
    expect(fake.calls.map((c) => c.promql)).toEqual(['vector(1)']);
  });

  test('fails naming spec.analysis.versionLabel when a subset lacks it, without asking Prometheus', async () => {
    const { fake, runner } = setup();
    const r = await runner.preflight(analysisSpec([ERRORS], { versionLabel: 'track' }), target());
    expect(r).toMatchObject({ ok: false });
    expect(r.ok ? '' : r.message).toContain('spec.analysis.versionLabel');
    expect(fake.calls).toEqual([]);
  });

  test('is decided without a query when the address answered a test query within the age asked, or a subset lacks the label', async () => {
    let now = 1_000_000;
    const { fake } = setup();
    const runner = new AnalysisRunner(fake, { now: () => now });
    const p = resolveAnalysis(analysisSpec([ERRORS]), {}) as AnalysisPlan;
    expect(runner.preflightFromRecent(p, target(), 10_000)).toBeUndefined();
    expect(await runner.preflight(p, target())).toEqual({ ok: true });
    now += 9_999;
    expect(runner.preflightFromRecent(p, target(), 10_000)).toEqual({ ok: true });
    // Another address, or an answer older than asked, is no evidence.
    expect(runner.preflightFromRecent({ ...p, address: 'http://other:9090' }, target(), 10_000)).toBeUndefined();
    now += 1;
    expect(runner.preflightFromRecent(p, target(), 10_000)).toBeUndefined();
    const r = runner.preflightFromRecent(resolveAnalysis(analysisSpec([ERRORS], { versionLabel: 'track' }), {}) as AnalysisPlan, target(), 10_000);
    expect(r?.ok === false ? r.message : '').toContain('spec.analysis.versionLabel');
    expect(fake.calls.map((c) => c.promql)).toEqual(['vector(1)']);
  });

  test('an answer is no evidence after the clock stepped back, nor once a later test query failed; the query is a real round trip', async () => {
    let now = 1_000_000;
    let down = false;
    const fail: QueryResult = { ok: false, kind: 'timeout', message: 'timed out' };
    const { fake } = setup({ ...ANSWERS, custom: (): QueryResult => (down ? fail : { ok: true, resultType: 'scalar', samples: [{ labels: {}, value: 1 }] }) });
    const runner = new AnalysisRunner(fake, { now: () => now });
    const p = resolveAnalysis(analysisSpec([ERRORS]), {}) as AnalysisPlan;
    expect(await runner.preflight(p, target())).toEqual({ ok: true });
    // Asked at its own evaluation time: a cache in front cannot hand back an answer from earlier.
    expect(fake.calls.map((c) => c.at?.getTime())).toEqual([now]);
    now -= 60_000;
    expect(runner.preflightFromRecent(p, target(), 10_000)).toBeUndefined();
    now += 60_000 + 1_000;
    expect(runner.preflightFromRecent(p, target(), 10_000)).toEqual({ ok: true });
    down = true;
    expect((await runner.preflight(p, target())).ok).toBe(false);
    expect(runner.preflightFromRecent(p, target(), 10_000)).toBeUndefined();
  });

  test('a test query that failed is no recent answer', async () => {
    const down: QueryResult = { ok: false, kind: 'unreachable', message: 'cannot reach Prometheus at http://x: ECONNREFUSED' };
    const { fake } = setup({ custom: () => down });
    const runner = new AnalysisRunner(fake);
    const p = resolveAnalysis(analysisSpec([ERRORS]), {}) as AnalysisPlan;
    expect((await runner.preflight(p, target())).ok).toBe(false);
    expect(runner.preflightFromRecent(p, target(), 10_000)).toBeUndefined();
  });

  test('fails saying Prometheus did not answer, naming the address field', async () => {
    const down: QueryResult = { ok: false, kind: 'unreachable', message: 'cannot reach Prometheus at http://x: ECONNREFUSED' };
    const { runner } = setup({ custom: () => down });
    const r = await runner.preflight(analysisSpec([ERRORS]), target());
    expect(r.ok ? '' : r.message).toContain('spec.analysis.prometheus.address');
    expect(r.ok ? '' : r.message).toContain('ECONNREFUSED');
  });
});
