import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { PrometheusClient, parseSampleValue, type QueryResult } from '../../../src/analysis/prometheus/client.js';
import { requestStats } from '../../../src/analysis/prometheus/queries.js';
import { closedPort, fixture, startFakePrometheus, type FakePrometheus } from './fake-prometheus.js';

// The PromQL each fixture was recorded with (record-fixtures.sh) and the
// status code Prometheus answered with.
const RECORDED: Record<string, { promql: string; status: number }> = {
  'vector-several': { promql: 'sum by (quantile) (go_gc_duration_seconds)', status: 200 },
  'vector-one': { promql: 'count(up)', status: 200 },
  'vector-empty': { promql: 'up{job="no-such-job"}', status: 200 },
  'vector-nan': { promql: 'vector(0/0)', status: 200 },
  'vector-histogram-quantile': {
    promql: 'histogram_quantile(0.99, sum by (handler, le) (rate(prometheus_http_request_duration_seconds_bucket[1m])))',
    status: 200,
  },
  'vector-istio-shaped': { promql: 'istio-shaped (label_replace chain, see record-fixtures.sh)', status: 200 },
  scalar: { promql: 'scalar(count(up)) * 2', status: 200 },
  'scalar-nan': { promql: '0/0', status: 200 },
  'scalar-pos-inf': { promql: '1/0', status: 200 },
  'scalar-neg-inf': { promql: '-1/0', status: 200 },
  matrix: { promql: 'up[5s]', status: 200 },
  string: { promql: '"hello"', status: 200 },
  'error-bad-data': { promql: 'sum(rate(istio_requests_total{reporter="destination"}[1m])', status: 400 },
  'error-execution': { promql: 'go_gc_duration_seconds + on() go_gc_duration_seconds', status: 422 },
  'error-timeout': { promql: 'count(up)  # with timeout=0s', status: 503 },
};

// Bodies that are not Prometheus answers at all, e.g. from a proxy in between.
const ODD: Record<string, { status: number; body: string; contentType: string }> = {
  'envoy-503': {
    status: 503,
    body: 'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
    contentType: 'text/plain',
  },
  'truncated-json': { status: 200, body: '{"status":"success","data":{"resultType":"vector","res', contentType: 'application/json' },
  'bad-sample-value': {
    status: 200,
    body: '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"twelve"]}]}}',
    contentType: 'application/json',
  },
  'html-404': { status: 404, body: '<html><body>404 page not found</body></html>', contentType: 'text/html' },
  'empty-200': { status: 200, body: '', contentType: 'application/json' },
};

let prom: FakePrometheus;
const client = new PrometheusClient();

beforeAll(async () => {
  const byPromql = new Map(Object.entries(RECORDED).map(([name, r]) => [r.promql, { status: r.status, body: fixture(name) }]));
  prom = await startFakePrometheus((params) => {
    const q = params.get('query') ?? '';
    const odd = ODD[q];
    if (odd !== undefined) return odd;
    return byPromql.get(q) ?? { status: 500, body: `fake Prometheus has no fixture for ${q}` };
  });
});
afterAll(() => prom.close());

const run = (name: string, timeoutMs = 2000): Promise<QueryResult> =>
  client.query(prom.address, RECORDED[name]?.promql ?? name, timeoutMs);

describe('PrometheusClient with recorded Prometheus 2.42 bodies', () => {
  test('vector with several series keeps every series and its labels', async () => {
    const r = await run('vector-several');
    if (!r.ok) throw new Error(r.message);
    expect(r.resultType).toBe('vector');
    expect(r.samples.map((s) => s.labels['quantile'])).toEqual(['0', '0.25', '0.5', '0.75', '1']);
    for (const s of r.samples) expect(Number.isFinite(s.value)).toBe(true);
  });

  test('vector with one series', async () => {
    expect(await run('vector-one')).toEqual({ ok: true, resultType: 'vector', samples: [{ labels: {}, value: 1 }] });
  });

  test('empty vector is a success with no samples', async () => {
    expect(await run('vector-empty')).toEqual({ ok: true, resultType: 'vector', samples: [] });
  });

  test('NaN inside a vector', async () => {
    const r = await run('vector-nan');
    expect(r.ok && r.samples.length === 1 && Number.isNaN(r.samples[0]?.value)).toBe(true);
  });

  test('histogram_quantile: NaN for series without traffic, a number for the others', async () => {
    const r = await run('vector-histogram-quantile');
    if (!r.ok) throw new Error(r.message);
    const byHandler = Object.fromEntries(r.samples.map((s) => [s.labels['handler'], s.value]));
    expect(byHandler['/metrics']).toBeCloseTo(0.099);
    expect(byHandler['/-/ready']).toBeNaN();
  });

  test('an Istio-shaped vector feeds requestStats', async () => {
    const r = await run('vector-istio-shaped');
    if (!r.ok) throw new Error(r.message);
    expect(requestStats(r.samples, { namespace: 'shop', service: 'reviews', version: 'v2' })).toEqual({
      total: 200,
      serverErrors: 12,
      errorRate: 0.06,
    });
  });

  test.each([
    ['scalar', 2],
    ['scalar-nan', Number.NaN],
    ['scalar-pos-inf', Infinity],
    ['scalar-neg-inf', -Infinity],
  ])('%s becomes one unlabelled sample (%p)', async (name, value) => {
    expect(await run(name)).toEqual({ ok: true, resultType: 'scalar', samples: [{ labels: {}, value }] });
  });

  test.each([
    ['matrix', /range vector \(matrix\)/],
    ['string', /returned a string/],
  ])('%s result is a bad-response naming the type', async (name, pattern) => {
    const r = await run(name);
    expect(r).toMatchObject({ ok: false, kind: 'bad-response' });
    if (!r.ok) expect(r.message).toMatch(pattern);
  });

  test('PromQL syntax error (400 bad_data) is a promql error with errorType, status and address, not Prometheus\' own text', async () => {
    const r = await run('error-bad-data');
    expect(r).toEqual({
      ok: false,
      kind: 'promql',
      message: `Prometheus at ${prom.address} rejected the query (HTTP 400, bad_data): the query is not valid PromQL or a parameter is wrong; run the query from status in Prometheus to see why`,
    });
  });

  test('execution error (422) is a promql error', async () => {
    const r = await run('error-execution');
    expect(r).toMatchObject({ ok: false, kind: 'promql' });
    if (!r.ok) expect(r.message).toContain('(HTTP 422, execution): the query failed while running');
    if (!r.ok) expect(r.message).not.toContain('duplicate series');
  });

  test("Prometheus' own query timeout (503, errorType timeout) is a timeout", async () => {
    const r = await run('error-timeout');
    expect(r).toMatchObject({ ok: false, kind: 'timeout' });
    if (!r.ok) expect(r.message).toContain('(HTTP 503, timeout): Prometheus timed the query out');
  });
});

describe('PrometheusClient with broken servers', () => {
  test('HTTP 503 with a non-JSON body (a proxy) is an http error with the status, not the body', async () => {
    expect(await run('envoy-503')).toEqual({
      ok: false,
      kind: 'http',
      message: `Prometheus at ${prom.address} answered HTTP 503 (not a Prometheus answer: is the address right?)`,
    });
  });

  test('HTML 404 (wrong path prefix) is an http error', async () => {
    expect(await run('html-404')).toMatchObject({ ok: false, kind: 'http', message: expect.stringContaining('HTTP 404') });
  });

  test.each(['truncated-json', 'empty-200'])('%s is a bad-response saying the body is not JSON', async (name) => {
    const r = await run(name);
    expect(r).toMatchObject({ ok: false, kind: 'bad-response' });
    if (!r.ok) expect(r.message).toContain('not JSON');
  });

  test('an unparseable sample value is a bad-response, without the value', async () => {
    const r = await run('bad-sample-value');
    expect(r).toEqual({ ok: false, kind: 'bad-response', message: `Prometheus at ${prom.address} answered HTTP 200 with a body that is not a Prometheus query result` });
  });

  test('a closed port is unreachable, naming the address and the cause', async () => {
    const address = `http://127.0.0.1:${await closedPort()}`;
    const r = await client.query(address, 'up', 1000);
    expect(r).toMatchObject({ ok: false, kind: 'unreachable' });
    if (!r.ok) expect(r.message).toMatch(new RegExp(`^cannot reach Prometheus at ${address}: .*ECONNREFUSED`));
  });

  test('a server that never answers times out', async () => {
    const silent = await startFakePrometheus(() => 'hang');
    try {
      const started = Date.now();
      const r = await client.query(silent.address, 'up', 150);
      expect(r).toEqual({ ok: false, kind: 'timeout', message: `Prometheus at ${silent.address} did not answer within 150ms` });
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await silent.close();
    }
  });

  test.each(['not a url', 'ftp://prometheus:9090', ''])('address %j is rejected without a request', async (address) => {
    const r = await client.query(address, 'up', 1000);
    expect(r).toMatchObject({ ok: false, kind: 'unreachable', message: expect.stringContaining('invalid Prometheus address') });
  });
});

// What a release author could make any server answer, if the operator
// quoted it into status and Events: a read-back channel for SSRF.
describe('PrometheusClient never quotes a response into its messages', () => {
  const SECRET = 'TOKEN-eyJhbGciOiJSUzI1NiJ9';
  const HOSTILE: Record<string, { status: number; body: string; contentType?: string }> = {
    'text 500': { status: 500, body: `internal error: ${SECRET}`, contentType: 'text/plain' },
    'html 200': { status: 200, body: `<html>${SECRET}</html>`, contentType: 'text/html' },
    'error envelope': { status: 400, body: JSON.stringify({ status: 'error', errorType: 'bad_data', error: `parse error near ${SECRET}` }) },
    'unknown errorType': { status: 422, body: JSON.stringify({ status: 'error', errorType: SECRET, error: 'x' }) },
    'errorType constructor': { status: 422, body: JSON.stringify({ status: 'error', errorType: 'constructor', error: SECRET }) },
    'error envelope on 200': { status: 200, body: JSON.stringify({ status: 'error', errorType: 'execution', error: SECRET }) },
    'bad sample value': { status: 200, body: JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, SECRET] }] } }) },
    'bad label value': { status: 200, body: JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: { [SECRET]: 1 }, value: [1, '1'] }] } }) },
    'odd JSON': { status: 200, body: JSON.stringify({ [SECRET]: SECRET }) },
    'odd JSON on 403': { status: 403, body: JSON.stringify({ message: SECRET }) },
  };
  let hostile: FakePrometheus;
  beforeAll(async () => {
    hostile = await startFakePrometheus((params) => HOSTILE[params.get('query') ?? ''] ?? { status: 500, body: 'no such case' });
  });
  afterAll(() => hostile.close());

  test.each(Object.keys(HOSTILE))('%s: the message has the kind and HTTP status, and no byte of the body', async (name) => {
    const r = await client.query(hostile.address, name, 2000);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message).not.toContain(SECRET);
    expect(r.message).not.toContain('eyJ');
    expect(r.message).toContain(`HTTP ${HOSTILE[name]!.status}`);
    expect(r.message.length).toBeLessThan(300);
    expect(r.message).not.toContain('function');
  });

  test('an address with credentials is shown without them', async () => {
    const withCredentials = hostile.address.replace('http://', 'http://admin:hunter2@');
    const r = await client.query(withCredentials, 'text 500', 2000);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).not.toMatch(/admin|hunter2/);
  });
});

describe('PrometheusClient request', () => {
  test('POST form-encoded to /api/v1/query with a server-side timeout, keeping a path prefix', async () => {
    prom.requests.length = 0;
    const promql = 'sum(rate(istio_requests_total{reporter="destination"}[1m])';
    await client.query(`${prom.address}/prometheus/`, promql, 1234.5);
    expect(prom.requests).toHaveLength(1);
    const [req] = prom.requests;
    expect(req?.method).toBe('POST');
    expect(req?.path).toBe('/prometheus/api/v1/query');
    expect(req?.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    expect(req?.params.get('query')).toBe(promql);
    expect(req?.params.get('timeout')).toBe('1235ms');
  });

  test('GET puts the same parameters in the URL', async () => {
    prom.requests.length = 0;
    const r = await new PrometheusClient({ method: 'GET' }).query(prom.address, 'count(up)', 1000);
    expect(r).toEqual({ ok: true, resultType: 'vector', samples: [{ labels: {}, value: 1 }] });
    expect(prom.requests[0]).toMatchObject({ method: 'GET', path: '/api/v1/query' });
    expect(prom.requests[0]?.params.get('query')).toBe('count(up)');
  });
});

describe('parseSampleValue', () => {
  test.each([
    ['1', 1],
    ['-2.5', -2.5],
    ['1.5e+06', 1.5e6],
    ['0.000077014', 0.000077014],
    ['NaN', Number.NaN],
    ['+Inf', Infinity],
    ['-Inf', -Infinity],
  ])('%s -> %p', (text, value) => {
    expect(parseSampleValue(text)).toBe(value);
  });

  test.each(['', ' ', 'abc', '1,5', 'Infinity', '0x10', 'toString'])('%j is not a sample value', (text) => {
    expect(parseSampleValue(text)).toBeUndefined();
  });
});
