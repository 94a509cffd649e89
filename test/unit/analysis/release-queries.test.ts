import { describe, expect, test } from '@jest/globals';
import { describeGateQuery, errorRateQuery, latencyGateQuery } from '../../../src/analysis/release-queries.js';

const V2 = { namespace: 'bookinfo', service: 'reviews', version: 'v2' };
const SEL = 'reporter="destination",destination_service_namespace="bookinfo",destination_service_name="reviews",destination_version="v2"';

describe('errorRateQuery', () => {
  test('is the 5xx share of the canary version in percent over the window', () => {
    expect(errorRateQuery(V2, '1m')).toBe(
      '100 * sum(increase(istio_requests_total{reporter="destination",destination_service_namespace="bookinfo",destination_service_name="reviews",destination_version="v2",response_code=~"5.."}[1m]))'
      + ' / sum(increase(istio_requests_total{reporter="destination",destination_service_namespace="bookinfo",destination_service_name="reviews",destination_version="v2"}[1m]))',
    );
  });

  test('writes the window in Prometheus form (90s -> 1m30s, 1.5m -> 1m30s)', () => {
    const golden = `100 * sum(increase(istio_requests_total{${SEL},response_code=~"5.."}[1m30s])) / sum(increase(istio_requests_total{${SEL}}[1m30s]))`;
    expect(errorRateQuery(V2, '90s')).toBe(golden);
    expect(errorRateQuery(V2, '1.5m')).toBe(golden);
  });

  test('uses the given namespace, service and version', () => {
    expect(errorRateQuery({ namespace: 'shop', service: 'cart', version: 'build-7' }, '5m')).toBe(
      '100 * sum(increase(istio_requests_total{reporter="destination",destination_service_namespace="shop",destination_service_name="cart",destination_version="build-7",response_code=~"5.."}[5m]))'
      + ' / sum(increase(istio_requests_total{reporter="destination",destination_service_namespace="shop",destination_service_name="cart",destination_version="build-7"}[5m]))',
    );
  });
});

describe('latencyGateQuery', () => {
  test('is histogram_quantile of the canary version summed by le', () => {
    expect(latencyGateQuery(V2, 99, '1m')).toBe(
      'histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket{reporter="destination",destination_service_namespace="bookinfo",destination_service_name="reviews",destination_version="v2"}[1m])))',
    );
  });

  test.each([
    [50, '0.5'],
    [95, '0.95'],
    [99.9, '0.999'],
    [99.99, '0.9999'],
  ])('writes percentile %p as quantile %s without float noise', (percentile, quantile) => {
    expect(latencyGateQuery(V2, percentile, '30s')).toBe(
      `histogram_quantile(${quantile}, sum by (le) (rate(istio_request_duration_milliseconds_bucket{${SEL}}[30s])))`,
    );
  });
});

describe('describeGateQuery', () => {
  test('an errorRate gate shows its error rate query', () => {
    expect(describeGateQuery({ name: 'e', errorRate: { max: '1%' } }, V2, '2m', undefined)).toBe(errorRateQuery(V2, '2m'));
  });

  test('a latency gate shows its latency query', () => {
    expect(describeGateQuery({ name: 'l', latency: { percentile: 95, maxMs: 300 } }, V2, '2m', undefined)).toBe(
      `histogram_quantile(0.95, sum by (le) (rate(istio_request_duration_milliseconds_bucket{${SEL}}[2m])))`,
    );
  });

  test('a custom gate shows its rendered query', () => {
    expect(describeGateQuery({ name: 'c', query: 'sum(x{v="{{version}}"})', max: 1 }, V2, '1m', 'sum(x{v="v2"})')).toBe('sum(x{v="v2"})');
  });

  test('a custom gate whose template could not be rendered shows the template', () => {
    expect(describeGateQuery({ name: 'c', query: 'sum(x{v="{{nope}}"})', max: 1 }, V2, '1m', undefined)).toBe('sum(x{v="{{nope}}"})');
  });
});
