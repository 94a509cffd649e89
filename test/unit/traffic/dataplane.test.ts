import { describe, expect, test } from '@jest/globals';
import { Reason } from '../../../src/api/conditions.js';
import { errorRateQuery } from '../../../src/analysis/release-queries.js';
import { latencyQuery, requestCountsQuery } from '../../../src/analysis/prometheus/queries.js';
import type { TrafficTarget } from '../../../src/controller/ports.js';
import { dataplaneOf, reporterFor } from '../../../src/traffic/dataplane.js';
import { ProviderRouter } from '../../../src/traffic/provider-router.js';
import type { TrafficProvider } from '../../../src/traffic/provider.js';
import { trafficAt } from '../release-fixtures.js';

const obj = (labels: Record<string, string> = {}) => ({ metadata: { name: 'x', labels } });

describe('dataplaneOf', () => {
  test('sidecar by default; ambient from the namespace or the Service; the waypoint from the Service, else the namespace', () => {
    expect(dataplaneOf(obj(), obj())).toEqual({ mode: 'sidecar' });
    expect(dataplaneOf(undefined, undefined)).toEqual({ mode: 'sidecar' });
    expect(dataplaneOf(obj({ 'istio.io/dataplane-mode': 'ambient' }), obj())).toEqual({ mode: 'ambient' });
    expect(dataplaneOf(obj(), obj({ 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': 'wp' }))).toEqual({ mode: 'ambient', waypoint: 'wp' });
    expect(dataplaneOf(obj({ 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': 'ns-wp' }), obj())).toEqual({ mode: 'ambient', waypoint: 'ns-wp' });
    expect(dataplaneOf(obj({ 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': 'ns-wp' }), obj({ 'istio.io/use-waypoint': 'none' }))).toEqual({ mode: 'ambient' });
    // A Service opted out of the namespace's ambient mode runs with sidecars.
    expect(dataplaneOf(obj({ 'istio.io/dataplane-mode': 'ambient' }), obj({ 'istio.io/dataplane-mode': 'none' }))).toEqual({ mode: 'sidecar' });
  });

  test('auto reads the waypoint\'s reports in ambient mode, the destination sidecar\'s otherwise; a set reporter is kept', () => {
    expect(reporterFor('auto', { mode: 'ambient', waypoint: 'wp' })).toBe('waypoint');
    expect(reporterFor('auto', { mode: 'sidecar' })).toBe('destination');
    expect(reporterFor('auto', undefined)).toBe('destination');
    expect(reporterFor('source', { mode: 'ambient', waypoint: 'wp' })).toBe('source');
  });

  test('the reporter reaches every query: grouped and shown', () => {
    expect(requestCountsQuery('1m', 'waypoint')).toContain('istio_requests_total{reporter="waypoint"}');
    expect(latencyQuery(99, '1m', 'waypoint')).toContain('{reporter="waypoint"}');
    expect(errorRateQuery({ namespace: 'prod', service: 'reviews-v2', reporter: 'waypoint' }, '1m'))
      .toBe('100 * sum(increase(istio_requests_total{reporter="waypoint",destination_service_namespace="prod",destination_service_name="reviews-v2",response_code=~"5.."}[1m])) / sum(increase(istio_requests_total{reporter="waypoint",destination_service_namespace="prod",destination_service_name="reviews-v2"}[1m]))');
  });
});

describe('a release on an ambient Service', () => {
  const provider: TrafficProvider = {
    name: 'istio', caches: [], observe: () => ({ route: trafficAt(0) }), setCanaryPercent: () => Promise.resolve('unchanged'),
    references: () => [], hostsOf: () => ['reviews'], routesFor: () => [],
  };
  const t: TrafficTarget = { namespace: 'prod', ref: { provider: 'istio', kind: 'VirtualService', name: 'reviews', scope: { service: 'reviews' }, uses: {} }, stable: 'v1', canary: 'v2' };
  const router = (ns: Record<string, string>, svc: Record<string, string> = {}) =>
    new ProviderRouter([provider], new Map(), { namespace: () => obj(ns), service: () => obj(svc) });

  test('without a waypoint cannot be routed, and the message says how to add one', () => {
    const seen = router({ 'istio.io/dataplane-mode': 'ambient' }).observe(t);
    expect(seen.route).toMatchObject({ ok: false, reason: Reason.WaypointMissing, message: expect.stringContaining('istioctl waypoint apply -n prod') });
    expect(seen.route.ok ? undefined : seen.route.view?.isAt(0)).toBe(true);
  });

  test('with a waypoint is routed, its data plane told to the gates', () => {
    const seen = router({ 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': 'waypoint' }).observe(t);
    expect(seen.route.ok).toBe(true);
    expect(seen.dataplane).toEqual({ mode: 'ambient', waypoint: 'waypoint' });
  });
});
