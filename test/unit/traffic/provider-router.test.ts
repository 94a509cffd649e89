import { describe, expect, test } from '@jest/globals';
import { Reason } from '../../../src/api/conditions.js';
import { CanaryReleaseStatusSchema } from '../../../src/api/status.js';
import type { TrafficObservation, TrafficTarget } from '../../../src/controller/ports.js';
import type { RouteRef } from '../../../src/core/plan.js';
import { ProviderRouter } from '../../../src/traffic/provider-router.js';
import type { TrafficProvider } from '../../../src/traffic/provider.js';
import { istioRef } from '../release-fixtures.js';

/** A provider whose routes for a Service are listed by hand. */
function provider(name: string, routes: Record<string, string[]>, hosts: string[]): TrafficProvider & { writes: number[] } {
  const writes: number[] = [];
  return {
    name, caches: [], writes,
    observe: (): TrafficObservation => ({ route: { ok: false, reason: Reason.RouteNotFound, message: `${name} saw it` } }),
    setCanaryPercent: (_t, p) => {
      writes.push(p);
      return Promise.resolve('written' as const);
    },
    references: (ref) => [`${ref.kind}/${ref.name}`],
    hostsOf: () => hosts,
    routesFor: (_ns, service) => routes[service] ?? [],
  };
}
const httpRef: RouteRef = { provider: 'gateway-api', kind: 'HTTPRoute', name: 'reviews', scope: {}, uses: {} };
const target = (ref: RouteRef): TrafficTarget => ({ namespace: 'prod', ref, stable: 'v1', canary: 'v2' });

describe('ProviderRouter', () => {
  test('hands a target to the provider its route names', async () => {
    const istio = provider('istio', {}, ['reviews']);
    const gateway = provider('gateway-api', {}, ['reviews']);
    const r = new ProviderRouter([istio, gateway]);
    expect(r.observe(target(httpRef)).route).toMatchObject({ message: 'gateway-api saw it' });
    await r.setCanaryPercent(target(istioRef()), 10);
    expect({ istio: istio.writes, gateway: gateway.writes }).toEqual({ istio: [10], gateway: [] });
    expect(r.references(httpRef, 'v1', 'v2')).toEqual(['HTTPRoute/reviews']);
  });

  test('reports other providers\' routes for the same Service, never its own', () => {
    const istio = provider('istio', { reviews: ['VirtualService prod/reviews'] }, ['reviews']);
    const gateway = provider('gateway-api', { reviews: ['HTTPRoute prod/reviews'] }, ['reviews']);
    const r = new ProviderRouter([istio, gateway]);
    expect(r.observe(target(httpRef)).conflicts).toEqual(['VirtualService prod/reviews']);
    expect(r.observe(target(istioRef())).conflicts).toEqual(['HTTPRoute prod/reviews']);
    const alone = new ProviderRouter([provider('istio', { reviews: ['VirtualService prod/reviews'] }, ['reviews'])]);
    expect(alone.observe(target(istioRef())).conflicts).toBeUndefined();
  });

  test('a route of a provider that could not start says what to install, and is never written', async () => {
    const r = new ProviderRouter([provider('istio', {}, [])], new Map([['gateway-api', 'install the Gateway API standard-channel CRDs']]));
    expect(r.observe(target(httpRef)).route).toEqual({ ok: false, reason: Reason.ProviderUnavailable, message: 'HTTPRoute reviews: install the Gateway API standard-channel CRDs' });
    await expect(r.setCanaryPercent(target(httpRef), 10)).rejects.toThrow('install the Gateway API');
    expect(r.references(httpRef, 'v1', 'v2')).toEqual([]);
  });
});

describe('status.target written before routes were provider-neutral', () => {
  test('the Istio fields are read as the same route, so an upgrade mid-release neither loses nor replaces it', () => {
    const old = { service: 'reviews', virtualService: { name: 'reviews', routes: ['primary'] }, destinationRule: { name: 'reviews-dr' } };
    const st = CanaryReleaseStatusSchema.parse({ target: old, restore: { target: { ...old, virtualService: { name: 'reviews-old' } }, stableSubset: 'v1', canarySubset: 'v2' } });
    expect(st.target).toEqual(istioRef('reviews', { routes: ['primary'], destinationRule: 'reviews-dr' }));
    expect(st.restore?.target).toEqual(istioRef('reviews-old', { destinationRule: 'reviews-dr' }));
  });
});
