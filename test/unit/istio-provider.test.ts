import { describe, expect, test } from '@jest/globals';
import { chooseIstioVersion, istioProvider } from '../../src/traffic/istio/istio-traffic-router.js';
import { gatewayApiProvider } from '../../src/traffic/gateway-api/http-route-provider.js';

const version = (served: string[], pinned?: string) => {
  const c = chooseIstioVersion(served, pinned);
  return c.ok ? c.version : c.message;
};

describe('chooseIstioVersion', () => {
  test('prefers v1, then v1beta1, then v1alpha3', () => {
    expect(version(['v1alpha3', 'v1beta1', 'v1'])).toBe('v1');
    expect(version(['v1alpha3', 'v1beta1'])).toBe('v1beta1');
    expect(version(['v1alpha3'])).toBe('v1alpha3');
  });

  test('honours a pinned version the cluster serves', () => {
    expect(version(['v1', 'v1alpha3'], 'v1alpha3')).toBe('v1alpha3');
  });

  test('refuses a pinned version the cluster does not serve, saying what it serves', () => {
    expect(version(['v1'], 'v1beta1')).toMatch(/ISTIO_API_VERSION=v1beta1.*serves networking.istio.io at: v1/);
  });

  test('says to install the Istio CRDs when none is served', () => {
    expect(version([])).toMatch(/install Istio's CRDs/);
  });
});

describe('which providers a cluster can run', () => {
  const served = (groups: Record<string, string[]>) => new Map(Object.entries(groups));

  test('Istio needs networking.istio.io; Gateway API needs gateway.networking.k8s.io/v1', () => {
    const istio = istioProvider();
    const gateway = gatewayApiProvider();
    expect(istio.problem(served({ 'networking.istio.io': ['v1'] }))).toBeUndefined();
    expect(gateway.problem(served({ 'networking.istio.io': ['v1'] }))).toMatch(/install the Gateway API standard-channel CRDs/);
    expect(gateway.problem(served({ 'gateway.networking.k8s.io': ['v1', 'v1beta1'] }))).toBeUndefined();
    expect(gateway.problem(served({ 'gateway.networking.k8s.io': ['v1beta1'] }))).toMatch(/does not serve HTTPRoutes at gateway.networking.k8s.io\/v1/);
    expect(istio.problem(served({ 'gateway.networking.k8s.io': ['v1'] }))).toMatch(/install Istio's CRDs/);
  });
});
