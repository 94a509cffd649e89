// The shell side of the sequential gates: the runner counts the batch status
// asks for (since the last batch, at the round's time) with the grouped
// queries, and hands the counts to the core unjudged.
import { describe, expect, test } from '@jest/globals';
import type { Gate } from '../../../src/api/analysis-spec.js';
import { AnalysisRunner, type AnalysisTarget } from '../../../src/analysis/analysis-runner.js';
import type { QueryResult, Sample } from '../../../src/analysis/prometheus/client.js';
import { durationBucketsQuery, requestCountsQuery } from '../../../src/analysis/prometheus/queries.js';
import { NOW, NS, at } from '../release-fixtures.js';
import { FakeQuerier, analysisPlan, requestSeries } from './analysis-fixtures.js';

const ERRORS: Gate = { name: 'errors-vs-stable', sequential: { errorRate: {} } };
const P99: Gate = { name: 'p99', sequential: { latency: { percentile: 99 } } };
const target = (extra: Partial<AnalysisTarget> = {}): AnalysisTarget => ({
  namespace: NS, stableSubset: 'stable', canarySubset: 'canary',
  stable: { service: 'reviews', labels: { version: 'v1' }, identifiedBy: 'version' },
  canary: { service: 'reviews', labels: { version: 'v2' }, identifiedBy: 'version' }, ...extra,
});
const bucket = (version: string, le: string, value: number): Sample => ({
  labels: { destination_service_namespace: NS, destination_service_name: 'reviews', destination_version: version, le }, value,
});
const vector = (samples: Sample[]): QueryResult => ({ ok: true, resultType: 'vector', samples });
const BUCKETS = [bucket('v2', '250', 90), bucket('v2', '+Inf', 100), bucket('v1', '250', 890), bucket('v1', '+Inf', 900), bucket('v1', '1.8e+06', 900)];

function querier() {
  return new FakeQuerier({
    requests: [requestSeries('reviews', 'v1', '200', 891), requestSeries('reviews', 'v1', '503', 9), requestSeries('reviews', 'v2', '200', 98), requestSeries('reviews', 'v2', '500', 2)],
    custom: (promql) => (promql.includes('istio_request_duration_milliseconds_bucket') ? vector(BUCKETS) : { ok: false, kind: 'promql', message: 'unexpected' }),
  });
}

describe('the runner counts a sequential batch', () => {
  test('requests and 5xx since the batch start, with the grouped query at the round\'s time', async () => {
    const q = querier();
    const r = await new AnalysisRunner(q).run(analysisPlan([ERRORS]), target({ counting: { from: at(-29.5), boundariesMs: {} } }), NOW);
    expect(q.calls.map((c) => [c.promql, c.at])).toEqual([[requestCountsQuery('29s500ms', 'destination', ['reviews']), NOW]]);
    expect(r.sequential?.requests).toEqual({ ok: true, value: { canary: { total: 100, errors: 2 }, stable: { total: 900, errors: 9 } } });
    // Sequential gates alone: the round measured its batch, and no windowed gate was evaluated.
    expect(r.measuredFrom).toEqual(at(-29.5));
    expect(r.results).toEqual([]);
    expect(r.sequential?.queries['errors-vs-stable']).toBe(
      'sum by (destination_version, response_code) (increase(istio_requests_total{reporter="destination",destination_service_namespace="bookinfo",destination_service_name="reviews",destination_version=~"v2|v1"}[29s500ms]))');
  });

  test('without a batch from status, the interval before the round', async () => {
    const q = querier();
    await new AnalysisRunner(q).run(analysisPlan([ERRORS]), target(), NOW);
    expect(q.calls.map((c) => c.promql)).toEqual([requestCountsQuery('30s', 'destination', ['reviews'])]);
  });

  test('a latency gate without a boundary also asks for stable\'s hour before the batch, at the batch start', async () => {
    const q = querier();
    const r = await new AnalysisRunner(q).run(analysisPlan([P99]), target({ counting: { from: at(-30), boundariesMs: {} } }), NOW);
    expect(q.calls.map((c) => [c.promql, c.at])).toEqual([[durationBucketsQuery('30s', 'destination', ['reviews']), NOW], [durationBucketsQuery('1h', 'destination', ['reviews']), at(-30)]]);
    expect(r.sequential?.histograms).toEqual({ ok: true, value: {
      canary: [{ le: 250, count: 90 }, { le: Number.POSITIVE_INFINITY, count: 100 }],
      stable: [{ le: 250, count: 890 }, { le: 1_800_000, count: 900 }, { le: Number.POSITIVE_INFINITY, count: 900 }],
    } });
    expect(r.sequential?.stableHistory?.ok).toBe(true);
  });

  test('once status has the boundary, no history is asked for', async () => {
    const q = querier();
    await new AnalysisRunner(q).run(analysisPlan([P99]), target({ counting: { from: at(-30), boundariesMs: { p99: 250 } } }), NOW);
    expect(q.calls.map((c) => c.promql)).toEqual([durationBucketsQuery('30s', 'destination', ['reviews'])]);
  });

  test('beside a windowed gate, the round measured back to the earlier of its window and the batch', async () => {
    const r = await new AnalysisRunner(querier()).run(analysisPlan([{ name: 'errors', errorRate: { max: '5%' } }, ERRORS]), target({ counting: { from: at(-30), boundariesMs: {} } }), NOW);
    expect(r.measuredFrom).toEqual(at(-60));
    expect(r.results.map((g) => g.name)).toEqual(['errors']);
  });

  test('subsets without the version label: every count fails, saying what to fix, and nothing is asked', async () => {
    const q = querier();
    const r = await new AnalysisRunner(q).run(analysisPlan([ERRORS, P99]), target({ canary: { service: 'reviews', labels: {}, identifiedBy: 'version' } }), NOW);
    expect(q.calls).toEqual([]);
    expect(r.sequential?.requests).toMatchObject({ ok: false, message: expect.stringContaining('spec.analysis.versionLabel') });
    expect(r.sequential?.histograms).toMatchObject({ ok: false });
  });

  test('a Prometheus error is the measurement\'s message', async () => {
    const q = new FakeQuerier({ requests: { ok: false, kind: 'unreachable', message: 'cannot reach Prometheus: ECONNREFUSED' } });
    const r = await new AnalysisRunner(q).run(analysisPlan([ERRORS]), target(), NOW);
    expect(r.sequential?.requests).toEqual({ ok: false, message: 'cannot reach Prometheus: ECONNREFUSED' });
  });
});
