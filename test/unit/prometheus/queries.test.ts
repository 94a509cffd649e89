import { describe, expect, test } from '@jest/globals';
import type { Sample } from '../../../src/analysis/prometheus/client.js';
import {
  latencyMs,
  latencyQuery,
  renderQueryTemplate,
  requestCountsQuery,
  requestStats,
  singleValue,
  toPromDuration,
  type TemplateValues,
} from '../../../src/analysis/prometheus/queries.js';

describe('toPromDuration', () => {
  test.each([
    ['1m', '1m'],
    ['30s', '30s'],
    ['90s', '1m30s'],
    ['1m30s', '1m30s'],
    ['1.5m', '1m30s'],
    ['500ms', '500ms'],
    ['1.5s', '1s500ms'],
    ['2h', '2h'],
    ['1h0m5s', '1h5s'],
    ['1s1s', '2s'],
    ['1d', '24h'],
    ['1w', '168h'],
    ['1h30m', '1h30m'],
    ['1m1h', '1h1m'],
  ])('%s -> %s', (text, prom) => {
    expect(toPromDuration(text)).toBe(prom);
  });

  test.each(['', '0s', '0ms', '1', 'm', '-1m', '1m ', '1M', '5m]) or vector(1) #', '1.5d', '1y1y'])('%j is rejected', (text) => {
    expect(toPromDuration(text)).toBeUndefined();
  });
});

describe('golden PromQL', () => {
  test('request counts, one query per window for all services', () => {
    expect(requestCountsQuery('1m')).toBe(
      'sum by (destination_service_namespace, destination_service_name, destination_version, response_code) ' +
        '(increase(istio_requests_total{reporter="destination"}[1m]))',
    );
    expect(requestCountsQuery('1.5m')).toBe(
      'sum by (destination_service_namespace, destination_service_name, destination_version, response_code) ' +
        '(increase(istio_requests_total{reporter="destination"}[1m30s]))',
    );
  });

  test('equal windows in different spellings give the identical query (one cache key)', () => {
    expect(requestCountsQuery('90s')).toBe(requestCountsQuery('1m30s'));
    expect(latencyQuery(99, '90s')).toBe(latencyQuery(99, '1.5m'));
  });

  test.each([
    [99, '1m', '0.99', '1m'],
    [95, '5m', '0.95', '5m'],
    [50, '30s', '0.5', '30s'],
    [99.9, '2m30s', '0.999', '2m30s'],
    [100, '1h', '1', '1h'],
  ])('latency p%p over %s', (percentile, window, q, w) => {
    expect(latencyQuery(percentile, window)).toBe(
      `histogram_quantile(${q}, sum by (destination_service_namespace, destination_service_name, destination_version, le) ` +
        `(rate(istio_request_duration_milliseconds_bucket{reporter="destination"}[${w}])))`,
    );
  });

  test('the exact p99/1m latency string', () => {
    expect(latencyQuery(99, '1m')).toBe(
      'histogram_quantile(0.99, sum by (destination_service_namespace, destination_service_name, destination_version, le) (rate(istio_request_duration_milliseconds_bucket{reporter="destination"}[1m])))',
    );
  });

  test.each([0, -1, 101, Number.NaN, Infinity])('percentile %p is rejected', (p) => {
    expect(() => latencyQuery(p, '1m')).toThrow(/invalid latency percentile/);
  });

  test.each(['', '0s', '1m"}', 'soon'])('window %j is rejected', (w) => {
    expect(() => requestCountsQuery(w)).toThrow(/invalid analysis window/);
    expect(() => latencyQuery(99, w)).toThrow(/invalid analysis window/);
  });
});

const series = (ns: string, svc: string, version: string, code: string, value: number): Sample => ({
  labels: { destination_service_namespace: ns, destination_service_name: svc, destination_version: version, response_code: code },
  value,
});

describe('requestStats', () => {
  const samples = [
    series('shop', 'reviews', 'v2', '200', 180),
    series('shop', 'reviews', 'v2', '503', 15),
    series('shop', 'reviews', 'v2', '500', 5),
    series('shop', 'reviews', 'v2', '404', 10),
    series('shop', 'reviews', 'v2', '0', 2),
    series('shop', 'reviews', 'v1', '200', 1000),
    series('shop', 'reviews', 'v1', '500', 1),
    series('shop', 'ratings', 'v2', '500', 99),
    series('other', 'reviews', 'v2', '500', 99),
  ];

  test('sums only the workload own series; 5xx are server errors, 4xx and 0 are not', () => {
    expect(requestStats(samples, { namespace: 'shop', service: 'reviews', version: 'v2' })).toEqual({
      total: 212,
      serverErrors: 20,
      errorRate: 20 / 212,
    });
    expect(requestStats(samples, { namespace: 'shop', service: 'reviews', version: 'v1' })).toEqual({
      total: 1001,
      serverErrors: 1,
      errorRate: 1 / 1001,
    });
  });

  test('no traffic: total 0 and no error rate', () => {
    expect(requestStats(samples, { namespace: 'shop', service: 'reviews', version: 'v3' })).toEqual({
      total: 0,
      serverErrors: 0,
      errorRate: undefined,
    });
    expect(requestStats([series('shop', 'reviews', 'v3', '200', 0)], { namespace: 'shop', service: 'reviews', version: 'v3' }).errorRate).toBeUndefined();
  });

  test('increase() extrapolates to fractions; they are kept', () => {
    const r = requestStats([series('a', 'b', 'c', '200', 9.5), series('a', 'b', 'c', '502', 0.5)], { namespace: 'a', service: 'b', version: 'c' });
    expect(r).toEqual({ total: 10, serverErrors: 0.5, errorRate: 0.05 });
  });
});

describe('latencyMs', () => {
  const lat = (ns: string, svc: string, version: string, value: number): Sample => ({
    labels: { destination_service_namespace: ns, destination_service_name: svc, destination_version: version },
    value,
  });
  const samples = [lat('shop', 'reviews', 'v1', 120), lat('shop', 'reviews', 'v2', 250), lat('shop', 'ratings', 'v2', 9), lat('shop', 'idle', 'v1', Number.NaN)];

  test('picks the workload own value', () => {
    expect(latencyMs(samples, { namespace: 'shop', service: 'reviews', version: 'v2' })).toBe(250);
    expect(latencyMs(samples, { namespace: 'shop', service: 'reviews', version: 'v1' })).toBe(120);
  });

  test('NaN when there is no series or histogram_quantile gave NaN', () => {
    expect(latencyMs(samples, { namespace: 'shop', service: 'reviews', version: 'v9' })).toBeNaN();
    expect(latencyMs(samples, { namespace: 'shop', service: 'idle', version: 'v1' })).toBeNaN();
    expect(latencyMs([], { namespace: 'shop', service: 'reviews', version: 'v2' })).toBeNaN();
  });
});

describe('renderQueryTemplate', () => {
  const values: TemplateValues = { namespace: 'shop', service: 'reviews', version: 'v2.1_rc-3', window: '1.5m', stableVersion: 'v1' };

  test('fills every placeholder (window made a Prometheus duration)', () => {
    const template =
      'sum(rate(http_errors_total{namespace="{{namespace}}", service="{{service}}", version="{{version}}"}[{{window}}]))' +
      ' / sum(rate(http_errors_total{namespace="{{namespace}}", service="{{service}}", version="{{stableVersion}}"}[{{ window }}]))';
    expect(renderQueryTemplate(template, values)).toEqual({
      ok: true,
      promql:
        'sum(rate(http_errors_total{namespace="shop", service="reviews", version="v2.1_rc-3"}[1m30s]))' +
        ' / sum(rate(http_errors_total{namespace="shop", service="reviews", version="v1"}[1m30s]))',
    });
  });

  test('a template without placeholders is kept as is', () => {
    expect(renderQueryTemplate('vector(1)', values)).toEqual({ ok: true, promql: 'vector(1)' });
  });

  const attempts: [keyof TemplateValues, string][] = [
    ['version', 'v2"} or vector(1) #'],
    ['version', '}'],
    ['version', 'v2\nor vector(1)'],
    ['version', 'v2\\'],
    ['version', 'v2"'],
    ['version', ''],
    ['version', '-v2'],
    ['version', 'v'.repeat(64)],
    ['stableVersion', 'v1"} + on() vector(1e9) #'],
    ['namespace', 'shop"}'],
    ['namespace', 'Shop'],
    ['namespace', 'shop.prod'],
    ['namespace', 'a'.repeat(64)],
    ['service', 'reviews{'],
    ['service', 'reviews\n'],
    ['service', 'rev_iews'],
    ['window', '5m]) or vector(1) #'],
    ['window', '5m\n'],
    ['window', '0s'],
    ['window', '5 m'],
  ];
  test.each(attempts)('{{%s}} = %j is rejected, naming placeholder and value', (name, bad) => {
    const r = renderQueryTemplate(`q{a="{{${name}}}"}`, { ...values, [name]: bad });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toContain(`placeholder {{${name}}}: ${JSON.stringify(bad)} is not`);
      expect(r.message).not.toContain('\n');
    }
  });

  test('values are only checked where used', () => {
    expect(renderQueryTemplate('up{ns="{{namespace}}"}', { ...values, version: 'bad"' })).toEqual({ ok: true, promql: 'up{ns="shop"}' });
  });

  test('unknown placeholder is an error listing the known ones', () => {
    const r = renderQueryTemplate('up{pod="{{pod}}", x="{{constructor}}"}', values);
    expect(r).toEqual({
      ok: false,
      message:
        'invalid query template: unknown placeholder {{pod}} (known: {{namespace}}, {{service}}, {{version}}, {{stableVersion}}, {{window}}); ' +
        'unknown placeholder {{constructor}} (known: {{namespace}}, {{service}}, {{version}}, {{stableVersion}}, {{window}})',
    });
  });

  test('{{stableVersion}} without a stable version is an error', () => {
    const { stableVersion: _unused, ...noStable } = values;
    expect(renderQueryTemplate('up{v="{{stableVersion}}"}', noStable)).toEqual({
      ok: false,
      message: 'invalid query template: placeholder {{stableVersion}} has no value here',
    });
  });

  test.each(['up{v="{{ version"}', 'up{v="{{version-1}}"}', 'up{v="version}}"}'])('malformed placeholder in %j is an error', (template) => {
    const r = renderQueryTemplate(template, values);
    expect(r).toMatchObject({ ok: false, message: expect.stringContaining('malformed placeholder') });
  });

  test('several problems are reported together, each once', () => {
    const r = renderQueryTemplate('x{a="{{version}}",b="{{version}}",c="{{namespace}}"}', { ...values, version: '"', namespace: 'A' });
    expect(r).toEqual({
      ok: false,
      message:
        'invalid query template: placeholder {{version}}: "\\"" is not a Kubernetes label value (letters, digits, "-", "_" and ".", starting and ending with a letter or digit, at most 63 characters); ' +
        'placeholder {{namespace}}: "A" is not a DNS-1123 label (lowercase letters, digits and "-", at most 63 characters)',
    });
  });
});

describe('singleValue', () => {
  const s = (labels: Record<string, string>, value: number): Sample => ({ labels, value });

  test('exactly one series (or a scalar) is the value', () => {
    expect(singleValue([s({}, 0.25)])).toEqual({ ok: true, value: 0.25 });
    expect(singleValue([s({ job: 'x' }, Number.NaN)])).toEqual({ ok: true, value: Number.NaN });
  });

  test('zero series is no data', () => {
    expect(singleValue([])).toMatchObject({ ok: false, reason: 'no-data' });
  });

  test('several series is an error naming the count, never the series labels (they come from Prometheus and reach status)', () => {
    expect(singleValue([s({ pod: 'a' }, 1), s({ pod: 'b' }, 2)])).toEqual({
      ok: false,
      reason: 'several-series',
      message: 'the query returned 2 series but must return exactly one (aggregate it, e.g. with sum())',
    });
    const r = singleValue([1, 2, 3, 4, 5].map((i) => s({ secret: `token-${i}` }, i)));
    expect(r).toMatchObject({ ok: false, reason: 'several-series', message: expect.stringContaining('returned 5 series') });
    if (!r.ok) expect(r.message).not.toMatch(/secret|token/);
  });
});
